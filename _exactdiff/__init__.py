"""Private code shared by ``hyperdual`` and ``reverse`` (imports neither).

The modules here implement numpy functions as compositions of operations that
both engines already differentiate (``np.reshape``, ``np.concatenate``,
indexing, ``np.where``, arithmetic, ``@``).  Written once against numpy's own
vocabulary, the same code runs on a ``Dual``, a ``HyperDual``, a ``Variable``
(at every order of ``create_graph``), a ``Variable`` holding ``Dual`` data, and
any nesting of those: each engine registers these functions in its dispatch
table and the primitive operations they call dispatch back to the engine.

Nothing here imports ``hyperdual`` or ``reverse``: engine values are recognised
by their module name (see :func:`_common.is_traced`).
"""
