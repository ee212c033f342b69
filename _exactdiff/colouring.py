"""Graph colourings that compress sparse Jacobians and Hessians.

A sparse Jacobian with pattern P is recovered from ``J @ V`` where column k
of V sums the unit vectors of the columns coloured k, provided no two columns
of one colour share a row (a *column colouring*: a distance-2 colouring of the
bipartite graph).  A symmetric Hessian needs fewer colours: in a *star
colouring* of its adjacency graph every path on four vertices uses at least
three colours, which is enough to read every entry directly from ``H @ V``
(Gebremedhin, Manne and Pothen, "What color is your Jacobian?", SIAM Review
2005).  Both are greedy in the natural order of the variables, which is optimal
for banded patterns (a tridiagonal Hessian needs 3 colours at any n).

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> tri = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(6, 6), format="csr")
>>> column_colouring(tri)
array([0, 1, 2, 0, 1, 2])
>>> int(star_colouring(tri).max()) + 1
3
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["Recovery", "column_colouring", "hessian_recovery", "jacobian_recovery",
           "jacobian_rows_recovery", "recover_hessian", "recover_jacobian", "row_colouring",
           "seed_stack", "seeds", "star_colouring"]


def _greedy(adjacency: sp.csr_matrix) -> np.ndarray:
    """First fit in the natural order: each vertex takes the smallest colour none of
    its coloured neighbours has (Python lists: a numpy call per vertex costs more
    than the few neighbours it looks at)."""
    n = adjacency.shape[0]
    indptr, indices = adjacency.indptr.tolist(), adjacency.indices.tolist()
    colours = [-1] * n
    for v in range(n):
        used = {colours[u] for u in indices[indptr[v]:indptr[v + 1]]}
        c = 0
        while c in used:
            c += 1
        colours[v] = c
    return np.asarray(colours, dtype=np.intp)


def _row_spans(P: sp.csr_matrix) -> tuple[int, int]:
    """(largest column span of a row, most entries in a row) of a canonical CSR."""
    counts = np.diff(P.indptr)
    full = counts > 0
    if not np.any(full):
        return 0, 0
    starts = P.indptr[:-1][full]
    lo = np.minimum.reduceat(P.indices, starts)
    hi = np.maximum.reduceat(P.indices, starts)
    return int(np.max(hi - lo)), int(counts.max())


def _canonical(pattern: sp.spmatrix) -> sp.csr_matrix:
    if type(pattern) is sp.csr_matrix and pattern.has_canonical_format:
        return pattern  # (read only)
    P = sp.csr_matrix(pattern)
    if not P.has_canonical_format:
        P = P.copy()
        P.sum_duplicates()
    return P


def column_colouring(pattern: sp.spmatrix) -> np.ndarray:
    """Colours of the columns such that no two columns of one colour share a row.

    A banded pattern whose widest row needs every colour gets the colours
    ``j mod (span + 1)`` (vectorised; as few as any column colouring can have);
    other patterns are coloured greedily in the natural order.

    Parameters
    ----------
    pattern : scipy.sparse matrix, shape (m, n)

    Returns
    -------
    ndarray of int, shape (n,)
        Colours 0, 1, ... (their number is ``colours.max() + 1``).
    """
    P = _canonical(pattern)
    span, widest = _row_spans(P)
    if widest and span + 1 <= widest:
        # two columns of one row are at most `span` apart: different colours mod
        # span + 1; and a row of `widest` entries needs that many colours anyway
        return np.arange(P.shape[1], dtype=np.intp) % (span + 1)
    P = sp.csr_matrix(P, dtype=np.float32, copy=True)  # (never the caller's data)
    P.data[:] = 1.0
    conflicts = sp.csr_matrix(P.T @ P)
    conflicts.setdiag(0)
    conflicts.eliminate_zeros()
    return _greedy(conflicts)


def _full_band(P: sp.csr_matrix) -> int | None:
    """b if the symmetric closure of the canonical square pattern ``P`` is the full
    band {|i - j| <= b} (b >= 0), else None."""
    n = P.shape[0]
    rows = np.repeat(np.arange(n), np.diff(P.indptr))
    off = P.indices - rows
    b = int(np.max(np.abs(off))) if off.size else 0
    if n < 4 * b + 4:  # short bands may need fewer colours (a path of 3 needs 2)
        return None
    inside = b * n - b * (b + 1) // 2  # entries (i, i + d), 1 <= d <= b
    if b and max(int(np.count_nonzero(off > 0)), int(np.count_nonzero(off < 0))) != inside:
        return None
    return b


def row_colouring(pattern: sp.spmatrix) -> np.ndarray:
    """Colours of the rows such that no two rows of one colour share a column
    (for reverse mode: one backward pass per colour)."""
    return column_colouring(sp.csr_matrix(pattern).T)


def star_colouring(pattern: sp.spmatrix) -> np.ndarray:
    """A star colouring of the adjacency graph of a symmetric pattern.

    Neighbours get different colours and no path on four vertices is coloured
    with two colours, so every entry of H can be read from ``H @ V`` directly
    (see :func:`recover_hessian`).  A full band of half-width b (tridiagonal,
    pentadiagonal, ...) gets ``i mod (2b + 1)``, vectorised, the greedy's
    colours; other patterns are coloured greedily in the natural order.

    Parameters
    ----------
    pattern : scipy.sparse matrix, shape (n, n), symmetric

    Returns
    -------
    ndarray of int, shape (n,)
    """
    P = _canonical(pattern)
    b = _full_band(P)
    if b is not None:
        # what the greedy loop below gives a full band, at numpy speed: any two
        # vertices within distance two are at most 2b apart (a distance-2 colouring
        # is a star colouring)
        return np.arange(P.shape[0], dtype=np.intp) % (2 * b + 1)
    A = sp.csr_matrix(P, dtype=np.float32)
    A = sp.csr_matrix(A + A.T)
    A.setdiag(0)
    A.eliminate_zeros()
    n = A.shape[0]
    indptr, indices = A.indptr, A.indices
    nbrs = [indices[indptr[v]:indptr[v + 1]].tolist() for v in range(n)]
    colour = [-1] * n
    # seen[x][c]: how many coloured neighbours of x have colour c (kept as v are
    # coloured), so "x has a neighbour other than w coloured like w" is one lookup
    seen: list[dict[int, int]] = [{} for _ in range(n)]
    for v in range(n):
        forbidden = set()
        for w in nbrs[v]:
            cw = colour[w]
            if cw >= 0:
                forbidden.add(cw)
            for x in nbrs[w]:
                if x == v:
                    continue
                cx = colour[x]
                if cx < 0:
                    continue
                if cw < 0:
                    # v and x two apart through an uncoloured w: keep them apart
                    forbidden.add(cx)
                elif seen[x].get(cw, 0) >= 2:
                    # v-w-x-y with colour(y) == colour(w) (y != w, as w counts
                    # once): colour(v) == colour(x) would make a two-coloured
                    # path on four vertices
                    forbidden.add(cx)
        c = 0
        while c in forbidden:
            c += 1
        colour[v] = c
        for u in nbrs[v]:
            counts = seen[u]
            counts[c] = counts.get(c, 0) + 1
    return np.asarray(colour, dtype=np.intp)


class Recovery:
    """Where each nonzero of the pattern sits in a compressed product, found once.

    ``recovery(compressed)`` is then one gather and a CSR matrix sharing the
    pattern's structure (the cost per evaluation of an optimizer's Hessian).
    """

    def __init__(self, pattern: sp.spmatrix, at_row: np.ndarray, at_col: np.ndarray) -> None:
        P = pattern if type(pattern) is sp.csr_matrix else sp.csr_matrix(pattern)
        self.shape = P.shape
        self.indptr = P.indptr.copy()
        self.indices = P.indices.copy()
        self.at_row = at_row
        self.at_col = at_col
        self._flat: dict = {}

    def __call__(self, compressed: np.ndarray) -> sp.csr_matrix:
        data = np.asarray(compressed)[self.at_row, self.at_col]
        return self._matrix(data)

    def stacked(self, stack: np.ndarray) -> sp.csr_matrix:
        """The same from ``stack = compressed.T`` (shape (ncolours, rows)), as the
        engines produce it: one flat gather, no transposed copy."""
        return self._matrix(self.gather(stack))

    def gather(self, stack: np.ndarray) -> np.ndarray:
        """The values of the pattern's entries (CSR order) from ``stack`` as in
        :meth:`stacked`."""
        stack = np.ascontiguousarray(stack)
        rows = stack.shape[1]
        flat = self._flat.get(rows)
        if flat is None:
            flat = self._flat[rows] = self.at_col.astype(np.intp) * rows + self.at_row
        return stack.reshape(-1).take(flat)

    def _matrix(self, data: np.ndarray) -> sp.csr_matrix:
        # the pattern's structure is valid by construction: skip scipy's checks
        m = sp.csr_matrix(self.shape, dtype=data.dtype)
        m.data, m.indices, m.indptr = data, self.indices.copy(), self.indptr.copy()
        return m


def _rows_cols(pattern: sp.spmatrix) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    if not (type(pattern) is sp.csr_matrix and pattern.dtype == bool
            and pattern.has_canonical_format):
        P = sp.csr_matrix(pattern, dtype=bool)
        P.sum_duplicates()
        P.sort_indices()
    else:
        P = pattern  # (read only)
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    return P, rows, P.indices


def jacobian_recovery(pattern: sp.spmatrix, colours: np.ndarray) -> Recovery:
    """Recovery of J from ``J @ V`` (shape (m, ncolours)), for a column colouring."""
    P, rows, cols = _rows_cols(pattern)
    return Recovery(P, rows, colours[cols])


def jacobian_rows_recovery(pattern: sp.spmatrix, colours: np.ndarray) -> Recovery:
    """Recovery of J from ``V.T @ J`` (shape (ncolours, n)), for a row colouring."""
    P, rows, cols = _rows_cols(pattern)
    return Recovery(P, colours[rows], cols)


def hessian_recovery(pattern: sp.spmatrix, colours: np.ndarray) -> Recovery:
    """Recovery of H from ``H @ V`` (shape (n, ncolours)), for a star colouring.

    Entry (i, j) is ``compressed[i, colour[j]]`` when j is the only neighbour of
    i with its colour, otherwise ``compressed[j, colour[i]]`` (a star colouring
    guarantees one of the two).

    Raises
    ------
    ValueError
        If the colouring does not allow direct recovery of some entry.
    """
    P, rows, cols = _rows_cols(pattern)
    n = P.shape[0]
    ncol = int(colours.max()) + 1 if colours.size else 0
    # how many entries of row i have colour c (neighbours, and i itself)
    key = rows * ncol + colours[cols]
    count = np.bincount(key, minlength=n * ncol)
    direct = count[key] == 1
    other = count[cols * ncol + colours[rows]] == 1
    if not np.all(direct | other):
        raise ValueError("hessian_recovery: the colouring does not allow direct recovery")
    return Recovery(P, np.where(direct, rows, cols),
                    np.where(direct, colours[cols], colours[rows]))


def recover_jacobian(pattern: sp.spmatrix, colours: np.ndarray, compressed: np.ndarray
                     ) -> sp.csr_matrix:
    """J from ``compressed = J @ V`` (shape (m, ncolours)) and a column colouring."""
    return jacobian_recovery(pattern, colours)(compressed)


def recover_hessian(pattern: sp.spmatrix, colours: np.ndarray, compressed: np.ndarray
                    ) -> sp.csr_matrix:
    """H from ``compressed = H @ V`` (shape (n, ncolours)) and a star colouring
    (see :func:`hessian_recovery`)."""
    return hessian_recovery(pattern, colours)(compressed)


def seeds(colours: np.ndarray) -> np.ndarray:
    """The compression matrix V (n, ncolours): V[j, colour[j]] = 1."""
    n = colours.size
    ncol = int(colours.max()) + 1 if n else 0
    V = np.zeros((n, ncol))
    V[np.arange(n), colours] = 1.0
    return V


def seed_stack(colours: np.ndarray, shape: tuple = None, dtype: Any = np.float64
               ) -> np.ndarray:
    """The direction stack V.T shaped ``(ncolours,) + shape``, C-contiguous.

    (``seeds(c).T`` is Fortran-ordered: every operation on a direction stack
    built from it would stride across the stack, several times slower.)
    """
    n = colours.size
    ncol = int(colours.max()) + 1 if n else 0
    V = np.zeros((ncol, n), dtype=dtype)
    V[colours, np.arange(n)] = 1
    return V.reshape((ncol,) + (tuple(shape) if shape is not None else (n,)))
