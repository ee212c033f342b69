"""Error messages shared by both engines for the ways a derivative can be lost.

A user who writes ``a = np.zeros(3); a[0] = x[0]`` inside a differentiated
function sees numpy's bare ``ValueError: setting an array element with a
sequence``; numpy chains the engine value's ``__float__`` error to it as
``__cause__``, so the text built here is what tells the user what happened and
what to write instead.  One text for both engines keeps the advice identical.
"""

from __future__ import annotations

# The plain-numpy ways to build an array out of differentiable values.
_BUILD = (
    "Build arrays of differentiable values functionally: np.stack([x[0], x[1], ...]), "
    "np.concatenate([...]), np.where(mask, new, old), or arithmetic such as "
    "y = x * 0 + ... (np.zeros_like(x) is a plain array and cannot hold derivatives)."
)


def lost_by_conversion(engine: str, typename: str, func: str) -> str:
    """Message for ``float()``/``int()``/``complex()`` of an engine value.

    This is also the ``__cause__`` of numpy's ValueError when an engine value is
    assigned into an element of a plain numpy array (``a[0] = x[0]``).
    """
    return (
        f"{engine}: {func}() of a {typename} would drop its derivative. This also "
        f"happens when a {typename} is assigned into a plain numpy array "
        f"(a = np.zeros(n); a[i] = x[j]): numpy converts it with {func}() and "
        f"the derivative is lost. {_BUILD} For the value alone use "
        f"{'.data' if engine == 'reverse' else '.real'}."
    )


#: Advice for a point given as several arrays (a tuple, list or dict of them, as
#: JAX's pytrees): both engines differentiate with respect to one array.
SEVERAL_ARRAYS = (
    "The helpers differentiate with respect to one array; for several (a tuple, list "
    "or dict of arrays) concatenate them, x = np.concatenate([a.ravel(), b.ravel()]), "
    "and split x inside f (a = x[:a.size].reshape(a.shape), ...)."
)


def explained(exc: ValueError) -> ValueError | None:
    """numpy's bare ``ValueError`` of ``a[i] = x[j]`` with the engine's reason in its
    own text (``None`` if ``exc`` is some other ValueError).

    numpy raises "setting an array element with a sequence." for any engine value
    written into a float array, and keeps the engine's explanation only as
    ``__cause__``; the helpers re-raise this, so ``str(exc)`` (what ``pytest.raises
    (match=)``, logs and one-line reports show) says what happened and what to do.
    """
    cause = exc.__cause__
    if (isinstance(cause, TypeError) and "would drop its derivative" in str(cause)
            and str(exc).startswith("setting an array element")):
        return ValueError(f"{exc} {cause}")
    return None


def call(f, *args):
    """``f(*args)``, with :func:`explained`'s text for numpy's ``a[i] = x[j]`` error."""
    try:
        return f(*args)
    except ValueError as exc:
        better = explained(exc)
        if better is None:
            raise
        raise better from exc.__cause__


def lost_by_array(engine: str, typename: str) -> str:
    """Message for ``np.asarray``/``np.array``/slice assignment of an engine value."""
    return (
        f"{engine}: cannot convert a {typename} to a plain numpy array (np.array, "
        f"np.asarray, or assigning it into a slice of a numpy array, a[:2] = x[:2]): "
        f"that would drop its derivative. {_BUILD} np.array([...]), np.r_ and np.c_ "
        f"convert their items and cannot be reached. For the value alone use "
        f"{'.data' if engine == 'reverse' else '.real'}."
    )


def lost_by_astype(engine: str, typename: str, dtype: object) -> str:
    """Message for ``x.astype(int)`` of an engine value, which would drop its derivative.

    numpy's own code calls ``astype(intp)`` too where it was not handed the engine value
    (``np.histogram`` dispatches on ``a``, ``bins`` and ``weights`` only, so a
    differentiated ``range=`` alone reaches numpy's bin arithmetic): the text says so.
    """
    values = ".data" if engine == "reverse" else ".real"
    return (
        f"{engine}: astype({dtype}) of a {typename} would drop its derivative; only float "
        f"dtypes are accepted (use {values} for the values, np.floor or np.trunc for a "
        f"piecewise-constant result). If your code does not call astype, numpy's own code "
        f"did on a value it could not hand to the engine: np.histogram with only range= "
        f"differentiated is one (numpy dispatches it on a, bins and weights); pass the "
        f"edges instead, bins=np.linspace(lo, hi, n + 1)."
    )


def no_item_assignment(engine: str, typename: str) -> str:
    """Message for ``y[i] = v`` on an engine value (they are immutable, as in JAX)."""
    return (
        f"{engine}: a {typename} does not support item assignment (y[i] = v): its "
        f"derivative parts are shared with the computation that made it, so it is "
        f"immutable, as JAX arrays are. {_BUILD} E.g. to set entry i: "
        f"y = np.where(np.arange(len(y)) == i, v, y)."
    )


def ufunc_keywords(engine: str, name: str, keys: list) -> str:
    """Message for keyword arguments of an elementwise ufunc call (``where=``, ``dtype=``
    ...), which neither engine honours: the call is refused naming them."""
    hint = ""
    if "where" in keys:
        hint = (f" numpy leaves the entries where the mask is False unset (or keeps those "
                f"of out=); write np.where(mask, {name}(x), fill) instead.")
    elif "dtype" in keys:
        hint = f" Cast the operands instead: {name}(x.astype(dtype))."
    return (f"{engine}: {name}(..., {'=..., '.join(keys)}=...) is not supported (keyword "
            f"arguments {keys} of an elementwise ufunc).{hint}")


def zero_singular_square(engine_note: str) -> str:
    """Message for the singular vectors of a zero singular value of a square matrix.

    The factors have no derivative there but many functions of them do (the product
    ``U S Vh`` is the matrix itself), so the text says what to differentiate instead.
    """
    return (
        "numpy.linalg.svd: a zero singular value of a square matrix (to working "
        "precision): numpy keeps it >= 0, so its singular vectors flip sign with the "
        "direction of the perturbation and have no derivative there. The factors have "
        "none, but sign-free functions of them may: for U @ diag(S) @ Vh differentiate "
        "the matrix itself (it is a); for functions of the singular values alone use "
        "np.linalg.svd(a, compute_uv=False) or np.linalg.norm(a, 2 / -2 / 'nuc')"
        + engine_note)


def ufunc_label(ufunc: object) -> str:
    """Where a ufunc is called from, for errors: ``numpy.sin`` or ``scipy.special.pbdv``
    (scipy.special's ufuncs are numpy ufuncs; "numpy.pbdv" would send the user looking
    in the wrong library, and "numpy.round" is not scipy.special.round).

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.special
    >>> ufunc_label(np.sin), ufunc_label(scipy.special.pbdv), ufunc_label(scipy.special.round)
    ('numpy.sin', 'scipy.special.pbdv', 'scipy.special.round')
    >>> ufunc_label(scipy.special._ufuncs._lambertw)  # behind scipy.special.lambertw
    'scipy.special.lambertw'
    """
    import numpy as np
    import scipy.special

    name = getattr(ufunc, "__name__", repr(ufunc))
    if getattr(np, name, None) is not ufunc:
        if getattr(scipy.special, name, None) is ufunc:
            return f"scipy.special.{name}"
        # a private ufunc behind a public Python function (_lambertw: lambertw)
        private = getattr(scipy.special, "_ufuncs", None)
        if (name.startswith("_") and getattr(private, name, None) is ufunc
                and callable(getattr(scipy.special, name[1:], None))):
            return f"scipy.special.{name[1:]}"
    return f"numpy.{name}"
