"""np.unique, np.histogram and np.histogram_bin_edges in both engines (they raised
TypeError "not supported").

Truths are closed forms: the unique values are the entries at numpy's first
occurrences (a selection matrix E: gradient E^T g, Hessian E^T diag(.) E); a
weighted histogram is M w with M the 0/1 matrix of which bin each point falls in
(numpy's own counts decide M); a density is (M w) / widths / sum(M w); edges from
(min(a), max(a)) move with the extremes.  Every helper of both engines, the four
nestings of jacobian(gradient), and third order along a direction (Taylor mode,
backprop), against the closed forms to a few ulps of the terms.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

EPS = float(np.finfo(float).eps)
ENGINES = {"hd": hd, "rv": rv}


def _close(got, want, ulps=32, what=""):
    got, want = np.asarray(got, float), np.asarray(want, float)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=ulps * EPS * scale, err_msg=what)


def _every_hessian(f, x):
    """The Hessian of f at x by every second-order path of both engines."""
    out = {"hd.hessian": hd.hessian(f, x), "rv.hessian": rv.hessian(f, x)}
    for o, outer in ENGINES.items():
        for i, inner in ENGINES.items():
            out[f"{o}.jacobian({i}.gradient)"] = outer.jacobian(
                lambda z, inner=inner: inner.gradient(f, z), x)
    return out


# --- unique ------------------------------------------------------------------
X_TIES = np.array([0.7, -0.2, 0.7, 1.5, -0.2, 0.3])
C = np.array([1.0, -2.0, 0.5, 3.0])  # weights of the 4 unique values


def _unique_f(x):
    return np.sum(C * np.sin(np.unique(x)) * np.unique(x))


def test_unique_values_are_numpy_values_with_first_occurrence_derivatives():
    first = np.unique(X_TIES, return_index=True)[1]  # numpy's: [1, 5, 0, 3]
    u = X_TIES[first]
    E = np.zeros((4, X_TIES.size))
    E[np.arange(4), first] = 1.0
    g_u = C * (np.cos(u) * u + np.sin(u))
    h_u = C * (2 * np.cos(u) - u * np.sin(u))
    for m in ENGINES.values():
        _close(m.gradient(_unique_f, X_TIES), E.T @ g_u)
        val, grad = m.value_and_gradient(_unique_f, X_TIES)
        assert val == pytest.approx(_unique_f(X_TIES), rel=4 * EPS)
        _close(grad, E.T @ g_u)
        J = m.jacobian(lambda x: np.unique(x), X_TIES)
        np.testing.assert_array_equal(J, E)
    for label, H in _every_hessian(_unique_f, X_TIES).items():
        _close(H, E.T @ np.diag(h_u) @ E, ulps=64, what=label)
    v = np.linspace(-1.0, 1.0, X_TIES.size)
    third = np.sum(C * (-3 * np.sin(u) - u * np.cos(u)) * (E @ v) ** 3)
    for m in ENGINES.values():
        d = m.directional_derivatives(_unique_f, X_TIES, v, 3)
        _close(d[3], third, ulps=64)


@pytest.mark.parametrize("kwargs", [dict(return_index=True), dict(return_inverse=True),
                                    dict(return_counts=True),
                                    dict(return_index=True, return_inverse=True,
                                         return_counts=True)])
def test_unique_extras_are_numpy_s(kwargs):
    want = np.unique(X_TIES, **kwargs)
    for m in ENGINES.values():
        seen = []

        def f(x, seen=seen):
            out = np.unique(x, **kwargs)
            seen.append(out[1:])
            return np.sum(out[0] ** 2)

        m.gradient(f, X_TIES)
        for got, ref in zip(seen[-1], want[1:]):
            np.testing.assert_array_equal(got, ref)
            assert got.dtype == ref.dtype


def test_unique_rows_along_an_axis():
    x = np.array([[1.0, 2.0], [0.5, 3.0], [1.0, 2.0]])
    first = np.unique(x, axis=0, return_index=True)[1]
    E = np.zeros((2, 2, 3, 2))
    for k, r in enumerate(first):
        E[k, :, r, :] = np.eye(2)
    for m in ENGINES.values():
        J = m.jacobian(lambda z: np.unique(z, axis=0), x)
        np.testing.assert_array_equal(J, E)


def test_unique_of_nan_entries_follows_numpy_equal_nan():
    x = np.array([np.nan, 1.0, np.nan])
    for m in ENGINES.values():
        J = m.jacobian(lambda z: np.unique(z), x)
        np.testing.assert_array_equal(J, [[0, 1, 0], [1, 0, 0]])
        J2 = m.jacobian(lambda z: np.unique(z, equal_nan=False), x)
        np.testing.assert_array_equal(J2, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


# --- histogram ---------------------------------------------------------------
POINTS = np.array([0.05, 0.4, 0.41, 0.95, 1.0, 0.5, -0.3, 0.25])  # 0 and 1: edges
W0 = np.linspace(0.5, 2.0, POINTS.size)


def _membership(points, edges):
    """M[j, i] = 1 where point i is in bin j (numpy's counts checked against it)."""
    M = np.zeros((edges.size - 1, points.size))
    for i, p in enumerate(points):
        for j in range(edges.size - 1):
            last = j == edges.size - 2
            if edges[j] <= p < edges[j + 1] or last and p == edges[-1]:
                M[j, i] = 1.0
    np.testing.assert_array_equal(M.sum(axis=1), np.histogram(points, edges)[0])
    return M


@pytest.mark.parametrize("bins, range_", [(4, (0.0, 1.0)), (3, None),
                                          (np.array([-1.0, 0.25, 0.3, 1.0]), None)])
def test_weighted_histogram_is_linear_in_the_weights(bins, range_):
    edges = np.histogram_bin_edges(POINTS, bins, range_)
    M = _membership(POINTS, edges)
    c = np.arange(1.0, edges.size)

    def f(w):
        h, _ = np.histogram(POINTS, bins=bins, range=range_, weights=w)
        return np.sum(c * h ** 2)

    for m in ENGINES.values():
        _close(m.gradient(f, W0), M.T @ (2 * c * (M @ W0)))
        h_val = m.jacobian(lambda w: np.histogram(POINTS, bins, range_, weights=w)[0], W0)
        np.testing.assert_array_equal(h_val, M)
    for label, H in _every_hessian(f, W0).items():
        _close(H, M.T @ np.diag(2 * c) @ M, what=label)


def test_histogram_values_are_numpy_s():
    w = W0 * 0.1
    want_h, want_e = np.histogram(POINTS, bins=5, weights=w, density=True)
    for m in ENGINES.values():
        got = []

        def f(z, got=got):
            got.append(np.histogram(POINTS, bins=5, weights=z, density=True))
            return np.sum(z)

        m.gradient(f, w)
        h, e = got[-1]
        np.testing.assert_array_equal(h.real if m is hd else h.data, want_h)
        np.testing.assert_array_equal(e, want_e)
    # unweighted counts stay numpy's integers
    seen = []
    rv.gradient(lambda a: (seen.append(np.histogram(a, bins=3)), np.sum(a))[1], POINTS)
    assert seen[-1][0].dtype == np.histogram(POINTS, 3)[0].dtype
    np.testing.assert_array_equal(seen[-1][0], np.histogram(POINTS, 3)[0])


def test_density_in_the_weights_and_in_the_points():
    """density_j = (M w)_j / (width_j S), S = sum(w in range): in w a quotient; in
    the points (bins from min/max, unweighted) c_j n / (N (max - min)): d/dmax =
    -density/(max - min), d/dmin = +density/(max - min)."""
    bins = 4
    edges = np.histogram_bin_edges(POINTS, bins, (0.0, 1.0))
    M = _membership(POINTS, edges)
    widths = np.diff(edges)
    c = np.array([1.0, -1.0, 2.0, 0.5])

    def f(w):
        return np.sum(c * np.histogram(POINTS, bins, (0.0, 1.0), weights=w, density=True)[0])

    S = np.sum(M @ W0)
    # d/dw of sum_j c_j (M w)_j / (widths_j S)
    g = M.T @ (c / widths) / S - np.sum(c * (M @ W0) / widths) / S ** 2 * M.sum(axis=0)
    for m in ENGINES.values():
        _close(m.gradient(f, W0), g)

    def dens(a):
        return np.sum(c * np.histogram(a, bins=bins, density=True)[0])

    lo, hi = int(np.argmin(POINTS)), int(np.argmax(POINTS))
    value = dens(POINTS)
    want = np.zeros(POINTS.size)
    want[hi] = -value / (POINTS[hi] - POINTS[lo])
    want[lo] = value / (POINTS[hi] - POINTS[lo])
    for m in ENGINES.values():
        _close(m.gradient(dens, POINTS), want)


def test_edges_follow_the_extremes_and_a_traced_range():
    n = 4
    k = np.arange(n + 1) / n
    lo, hi = int(np.argmin(POINTS)), int(np.argmax(POINTS))
    want = np.zeros((n + 1, POINTS.size))
    want[:, lo] = 1 - k
    want[:, hi] = k
    for m in ENGINES.values():
        J = m.jacobian(lambda a: np.histogram(a, bins=n)[1], POINTS)
        _close(J, want)
        J2 = m.jacobian(lambda a: np.histogram_bin_edges(a, n), POINTS)
        _close(J2, want)
        # a range that is a function of x: its ends move the edges (numpy dispatches
        # on the points, bins and weights: a range alone differentiated is not seen)
        J3 = m.jacobian(lambda z: np.histogram(z[2:], n, range=(z[0], z[1]))[1],
                        np.concatenate([[-0.5, 1.5], POINTS]))
        _close(J3, np.concatenate([np.stack([1 - k, k], axis=1),
                                   np.zeros((n + 1, POINTS.size))], axis=1))
        # edges given as the differentiated array: the identity
        e0 = np.array([-1.0, 0.0, 0.5, 2.0])
        np.testing.assert_array_equal(m.jacobian(lambda e: np.histogram(POINTS, e)[1], e0),
                                      np.eye(4))


def test_equal_extremes_widen_as_numpy():
    a = np.array([2.0, 2.0])
    for m in ENGINES.values():
        J = m.jacobian(lambda z: np.histogram(z, bins=2)[1], a)
        # numpy: edges linspace(1.5, 2.5, 3); each end moves with the tied max/min,
        # shared equally between the two tied entries
        _close(J, np.full((3, 2), 0.5))


def test_lazy_and_bad_input_say_what_is_wrong():
    da = pytest.importorskip("dask.array")
    x = da.from_array(X_TIES, chunks=3)
    for m in ENGINES.values():
        with pytest.raises(TypeError, match="lazy"):
            m.gradient(lambda z: np.sum(np.unique(z)), x)
        with pytest.raises(ValueError):  # numpy's own error for a bad range
            m.gradient(lambda w: np.sum(np.histogram(POINTS, 3, range=(0.0,),
                                                     weights=w)[0]), W0)


@pytest.mark.skipif(not hasattr(np, "unique_all"), reason="numpy 2's array-API spellings")
@pytest.mark.parametrize("name", ["unique_values", "unique_counts", "unique_inverse",
                                  "unique_all"])
def test_array_api_unique_spellings(name):
    """numpy 2's unique_values/_counts/_inverse/_all: numpy's own result, values
    with the derivative of their first occurrence (NaN each its own: equal_nan=False)."""
    func = getattr(np, name)
    x = np.array([3.0, 1.0, 3.0, 2.0, np.nan, np.nan])
    want = func(x)
    values = want if name == "unique_values" else want.values
    first = [1, 3, 0, 4, 5]  # 1, 2, 3, nan, nan (numpy's sorted order)
    E = np.zeros((5, 6))
    E[np.arange(5), first] = 1.0
    for m in ENGINES.values():
        seen = []

        def f(z, seen=seen):
            out = func(z)
            seen.append(out)
            return out if name == "unique_values" else out.values

        J = m.jacobian(f, x)
        got_values = f(x)
        np.testing.assert_array_equal(got_values, values)
        np.testing.assert_array_equal(J, E)
        if name != "unique_values":
            out = seen[0]
            assert type(out) is type(want)
            for field in want._fields[1:]:
                np.testing.assert_array_equal(getattr(out, field), getattr(want, field))


# --- histogramdd / histogram2d -------------------------------------------------
# 7 points in 2-d; some on the outer edges of range ((0, 1), (-1, 1)) and one outside
PTS2 = np.array([[0.05, -0.9], [0.4, 0.2], [0.41, 0.21], [1.0, 1.0], [0.5, -1.0],
                 [-0.3, 0.0], [0.75, 0.6]])
W7 = np.linspace(0.5, 2.0, 7)
RANGE2 = [(0.0, 1.0), (-1.0, 1.0)]


def _membership_2d(points, xedges, yedges):
    """M[k, i] = 1 where point i is in cell k = (j_x, j_y) flattened (last bins closed),
    checked against numpy's counts."""
    nx, ny = xedges.size - 1, yedges.size - 1

    def cell(p, e):
        for j in range(e.size - 1):
            if e[j] <= p < e[j + 1] or (j == e.size - 2 and p == e[-1]):
                return j
        return None

    M = np.zeros((nx * ny, len(points)))
    for i, (px, py) in enumerate(points):
        jx, jy = cell(px, xedges), cell(py, yedges)
        if jx is not None and jy is not None:
            M[jx * ny + jy, i] = 1.0
    counts = np.histogramdd(points, (xedges, yedges))[0].ravel()
    np.testing.assert_array_equal(M.sum(axis=1), counts)
    return M


@pytest.mark.parametrize("bins", [(3, 2), 2, [np.array([-1.0, 0.3, 0.6, 1.0]), 4]])
def test_weighted_histogramdd_is_linear_in_the_weights(bins):
    _, (xe, ye) = np.histogramdd(PTS2, bins, RANGE2)
    M = _membership_2d(PTS2, xe, ye)
    c = np.arange(1.0, M.shape[0] + 1)

    def f(w):
        h, _ = np.histogramdd(PTS2, bins=bins, range=RANGE2, weights=w)
        return np.sum(c * np.ravel(h) ** 2)

    for m in ENGINES.values():
        _close(m.gradient(f, W7), M.T @ (2 * c * (M @ W7)))
        J = m.jacobian(lambda w: np.ravel(np.histogramdd(PTS2, bins, RANGE2, weights=w)[0]),
                       W7)
        np.testing.assert_array_equal(J, M)
    for label, H in _every_hessian(f, W7).items():
        _close(H, M.T @ np.diag(2 * c) @ M, what=label)


def test_histogram2d_is_histogramdd_of_the_pair():
    x, y = PTS2[:, 0], PTS2[:, 1]
    c = np.arange(1.0, 7.0).reshape(3, 2)
    _, xe, ye = np.histogram2d(x, y, (3, 2), RANGE2)
    M = _membership_2d(PTS2, xe, ye)

    def f(w):
        return np.sum(c * np.histogram2d(x, y, (3, 2), RANGE2, weights=w)[0] ** 3)

    for m in ENGINES.values():
        _close(m.gradient(f, W7), M.T @ (3 * c.ravel() * (M @ W7) ** 2))
        _close(m.hessian(f, W7), M.T @ np.diag(6 * c.ravel() * (M @ W7)) @ M)
        v = np.linspace(-1.0, 1.0, 7)  # third order along v (Taylor mode, backprop)
        _close(m.directional_derivatives(f, W7, v, 3)[3], np.sum(6 * c.ravel() * (M @ v) ** 3))


def test_histogramdd_values_are_numpy_s():
    for density in (False, True):
        want_h, want_e = np.histogramdd(PTS2, (3, 2), weights=W7 * 0.1, density=density)
        for m in ENGINES.values():
            got = []

            def f(z, got=got, density=density):
                got.append(np.histogramdd(PTS2, (3, 2), weights=z, density=density))
                return np.sum(z)

            m.gradient(f, W7 * 0.1)
            h, e = got[-1]
            np.testing.assert_array_equal(h.real if m is hd else h.data, want_h)
            for a, b in zip(e, want_e):
                np.testing.assert_array_equal(a, b)


def test_histogramdd_density_in_the_weights_and_in_the_points():
    """density = (M w) / (wx_jx wy_jy S), S = sum(M w).  In the points (unweighted,
    edges from the extremes) the cell areas scale with (max x - min x)(max y - min y):
    d/d(max x) = -sum(c density)/(max x - min x), d/d(min x) the opposite, likewise y."""
    bins = (3, 2)
    _, (xe, ye) = np.histogramdd(PTS2, bins, RANGE2)
    M = _membership_2d(PTS2, xe, ye)
    area = np.outer(np.diff(xe), np.diff(ye)).ravel()
    c = np.array([1.0, -1.0, 2.0, 0.5, 3.0, -2.0])

    def f(w):
        return np.sum(c * np.ravel(np.histogramdd(PTS2, bins, RANGE2, weights=w,
                                                  density=True)[0]))

    S = np.sum(M @ W7)
    g = M.T @ (c / area) / S - np.sum(c * (M @ W7) / area) / S ** 2 * M.sum(axis=0)
    for m in ENGINES.values():
        _close(m.gradient(f, W7), g)

    def dens(p):
        return np.sum(c * np.ravel(np.histogramdd(p.reshape(7, 2), bins, density=True)[0]))

    total = dens(PTS2.ravel())
    want = np.zeros(PTS2.size)
    for d in range(2):
        lo, hi = int(np.argmin(PTS2[:, d])), int(np.argmax(PTS2[:, d]))
        span = PTS2[hi, d] - PTS2[lo, d]
        want[2 * hi + d] = -total / span
        want[2 * lo + d] = total / span
    for m in ENGINES.values():
        _close(m.gradient(dens, PTS2.ravel()), want)


def test_histogramdd_edges_follow_extremes_range_and_given_edges():
    n = 4
    k = np.arange(n + 1) / n
    x = PTS2[:, 0]
    lo, hi = int(np.argmin(x)), int(np.argmax(x))
    want = np.zeros((n + 1, x.size))
    want[:, lo] = 1 - k
    want[:, hi] = k
    for m in ENGINES.values():
        # x's edges from its extremes, in each spelling of the sample
        for call in (lambda z: np.histogramdd(np.stack([z, PTS2[:, 1]], axis=1), n)[1][0],
                     lambda z: np.histogramdd([z, PTS2[:, 1]], n)[1][0],
                     lambda z: np.histogram2d(z, PTS2[:, 1], n)[1],
                     lambda z: np.histogramdd(z, n)[1][0]):
            _close(m.jacobian(call, x), want)
        # y's edges do not depend on x
        np.testing.assert_array_equal(
            m.jacobian(lambda z: np.histogram2d(z, PTS2[:, 1], n)[2], x), 0.0)
        # a range in x that is a function of the parameters
        J = m.jacobian(lambda z: np.histogram2d(z[2:], PTS2[:, 1], n,
                                                range=[(z[0], z[1]), (-1, 1)])[1],
                       np.concatenate([[-0.5, 1.5], x]))
        _close(J, np.concatenate([np.stack([1 - k, k], axis=1), np.zeros((n + 1, 7))],
                                 axis=1))
        # edges given as the differentiated array: the identity, for both coordinates
        e0 = np.array([-1.0, 0.0, 0.5, 2.0])
        np.testing.assert_array_equal(
            m.jacobian(lambda e: np.histogram2d(x, PTS2[:, 1], e)[2], e0), np.eye(4))


def test_histogramdd_bad_and_lazy_input():
    da = pytest.importorskip("dask.array")
    for m in ENGINES.values():
        with pytest.raises(TypeError, match="lazy"):
            m.gradient(lambda w: np.sum(np.histogramdd(PTS2, 2, weights=w)[0]),
                       da.from_array(W7, chunks=4))
        with pytest.raises(TypeError, match="lazy"):  # lazy points in a pair
            m.gradient(lambda x: np.sum(np.histogram2d(x, PTS2[:, 1], 2, weights=W7)[1]),
                       da.from_array(PTS2[:, 0], chunks=4))
        with pytest.raises(ValueError):  # numpy's own: one range per dimension
            m.gradient(lambda w: np.sum(np.histogramdd(PTS2, 2, [(0.0, 1.0)],
                                                       weights=w)[0]), W7)
        with pytest.raises(ValueError):  # numpy's own: one bins entry per dimension
            m.gradient(lambda w: np.sum(np.histogramdd(PTS2, [2, 2, 2], weights=w)[0]), W7)
