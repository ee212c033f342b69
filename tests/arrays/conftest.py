"""Import dask with the tests directory off ``sys.path``.

pytest puts ``tests/`` on ``sys.path`` (rootdir conftest), where the folder
``tests/sparse`` looks like a namespace package named ``sparse``; dask probes
``import sparse`` for pydata/sparse and breaks on it.  Importing dask first
without that entry makes dask see the real (or no) pydata/sparse.
"""
import contextlib
import os
import sys

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _import_clean(name):
    saved = sys.path[:]
    stale = sys.modules.get("sparse")
    if stale is not None and getattr(stale, "__file__", None) is None:
        del sys.modules["sparse"]  # the namespace package made of tests/sparse
    sys.path[:] = [p for p in saved if os.path.abspath(p or os.curdir) != _TESTS]
    try:
        with contextlib.suppress(ImportError):
            __import__(name)
    finally:
        sys.path[:] = saved


_import_clean("dask.array")
_import_clean("distributed")
