"""Both engines on dask arrays: lazy results (no compute inside a helper), equal to numpy.

Truth is the numpy run of the same helper (tested against closed forms and
mpmath elsewhere) and, for Rosenbrock, its closed-form gradient.
"""
import numpy as np
import pytest

from ._problems import logistic, rosen, rosen_grad, rosen_hess

da = pytest.importorskip("dask.array")

import hyperdual  # noqa: E402
import reverse  # noqa: E402
from _exactdiff import arrays  # noqa: E402

RNG = np.random.default_rng(17)
XN = RNG.normal(size=101)
AN = RNG.normal(size=(120, 4))
YN = np.sign(RNG.normal(size=120))
WN = RNG.normal(size=4)
VN = RNG.normal(size=4)



def _close(lazy, expected):
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-13, atol=1e-13)


def test_the_lazy_fixture_sees_a_compute(lazy):
    with pytest.raises(AssertionError, match="1 dask computes"):
        lazy(lambda: float(da.ones(3).sum()))
    assert lazy(lambda: 3) == 3


def test_allow_list_by_name():
    assert arrays.is_foreign_array(da.ones(3))
    assert not arrays.is_foreign_array(np.ones(3))
    assert not arrays.is_foreign_array(reverse.Variable(np.ones(3)))
    assert not arrays.is_foreign_array(hyperdual.Dual(np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match="exactdiff value"):
        reverse.register_array_type(reverse.Variable)
    with pytest.raises(TypeError, match="__array_function__"):
        hyperdual.register_array_type(int)


def test_variable_keeps_dask_data(lazy):
    x = da.from_array(np.arange(6), chunks=3)
    v = lazy(lambda: reverse.Variable(x))
    assert isinstance(v.data, da.Array) and v.data.dtype == np.float64
    assert v.data.chunks == x.chunks


def test_rosenbrock_gradient_lazy(lazy):
    x = da.from_array(XN, chunks=25)
    g = lazy(lambda: reverse.gradient(rosen, x))
    _close(g, rosen_grad(XN))
    assert g.chunks == x.chunks


def test_rosenbrock_value_and_gradient_lazy(lazy):
    x = da.from_array(XN, chunks=25)
    val, g = lazy(lambda: reverse.value_and_gradient(rosen, x))
    _close(g, rosen_grad(XN))
    np.testing.assert_allclose(float(val), rosen(XN), rtol=1e-13)


def test_logistic_gradient_lazy(lazy):
    X = da.from_array(AN, chunks=(40, 4))
    y = da.from_array(YN, chunks=40)
    w = da.from_array(WN)
    g = lazy(lambda: reverse.gradient(logistic(X, y), w))
    # closed form: mean of -y X sigmoid(-y Xw)
    m = YN * (AN @ WN)
    expected = AN.T @ (-YN / (1 + np.exp(m))) / len(YN)
    _close(g, expected)


def test_rosenbrock_hvp_reverse_over_reverse_lazy(lazy):
    x = da.from_array(XN, chunks=25)
    v = da.from_array(XN[::-1].copy(), chunks=25)
    h = lazy(lambda: reverse.hvp(rosen, x, v, mode="reverse-over-reverse"))
    _close(h, reverse.hvp(rosen, XN, XN[::-1].copy(), mode="reverse-over-reverse"))


@pytest.mark.parametrize("index", [
    (slice(2, -3),), (slice(None, None, 3),), (slice(None, None, -2),), (3,),
    (None, slice(1, 9, 2)), (Ellipsis, -1),
])
def test_basic_index_gradient_lazy(index, lazy):
    x = da.from_array(XN[:30].reshape(5, 6), chunks=(2, 3))

    def f(z):
        return np.sum(z[index] ** 2)

    g = lazy(lambda: reverse.gradient(f, x))
    _close(g, reverse.gradient(f, XN[:30].reshape(5, 6)))


X2 = RNG.normal(size=(5, 6))
X3 = RNG.normal(size=(3, 4, 5))
FANCY = [
    (XN, [0, 0, 3]),
    (XN, RNG.integers(0, XN.size, size=300)),  # many repeats, across every chunk
    (XN, np.arange(XN.size) % 3 == 0),  # a numpy boolean mask
    (X2, [0, 2, 2]),
    (X2, (slice(None), [1, 1, 5])),
    (X2, np.array([1, 4, 1])),
    (X2, ([0, 4], slice(1, 4))),
    (X2, (0, [1, 1])),
    (X2, (None, [3, 3], Ellipsis)),
    (X3, (slice(None), [3, 0, 3], slice(1, 3))),
    (X3, (1, slice(None), [4, 4])),  # dask orders these axes unlike numpy
]
FANCY_IDS = [f"case{i}" for i in range(len(FANCY))]


def _add_at(shape, index, values):
    out = np.zeros(shape)
    np.add.at(out, index, values)
    return out


def _fancy_case(case):
    data, index = case
    chunks = {1: 25, 2: (2, 3), 3: (2, 3, 2)}[data.ndim]
    return data, index, da.from_array(data, chunks=chunks)


@pytest.mark.parametrize("case", FANCY, ids=FANCY_IDS)
def test_fancy_index_gradient_lazy(case, lazy):
    data, index, x = _fancy_case(case)

    def f(z):
        return np.sum(z[index] ** 3)

    g = lazy(lambda: reverse.gradient(f, x))
    # closed form: 3 x^2 added at every selected position (repeats add up)
    _close(g, _add_at(data.shape, index, 3 * data[index] ** 2))
    assert g.chunks == x.chunks


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
@pytest.mark.parametrize("case", FANCY, ids=FANCY_IDS)
def test_fancy_index_hvp_lazy(case, mode, lazy):
    data, index, x = _fancy_case(case)
    v_n = np.cos(np.arange(data.size)).reshape(data.shape)
    v = da.from_array(v_n, chunks=x.chunks)

    def f(z):
        return np.sum(z[index] ** 3)

    h = lazy(lambda: reverse.hvp(f, x, v, mode=mode))
    # closed form: H v = sum over selections of 6 x v at each selected position
    _close(h, _add_at(data.shape, index, 6 * data[index] * v_n[index]))


def test_fancy_index_small_output_chunks(lazy):
    """The lazy scatter-add over several chunks of values and of the result."""
    import dask

    index = RNG.integers(0, XN.size, size=300)
    x = da.from_array(XN, chunks=7)
    with dask.config.set({"array.chunk-size": "128B"}):  # result chunks of 16
        g = lazy(lambda: reverse.gradient(lambda z: np.sum(np.sin(z[index])), x))
    _close(g, _add_at(XN.shape, index, np.cos(XN[index])))


def test_fancy_index_by_dask_integers_lazy(lazy):
    index = RNG.integers(0, XN.size, size=40)
    x = da.from_array(XN, chunks=25)
    idx = da.from_array(index, chunks=15)
    g = lazy(lambda: reverse.gradient(lambda z: np.sum(z[idx] ** 3), x))
    _close(g, _add_at(XN.shape, index, 3 * XN[index] ** 2))


MASK_CASES = {
    "1-d, mask chunked like x": (XN, 25, 25),
    "1-d, mask chunked otherwise": (XN, 25, 30),
    "2-d": (X2, (2, 3), (2, 3)),
    "2-d, mask chunked otherwise": (X2, (2, 3), (3, 2)),
}


@pytest.mark.parametrize("helper", ["gradient", "forward-over-reverse", "reverse-over-reverse",
                                    "jvp"])
@pytest.mark.parametrize("case", list(MASK_CASES))
def test_dask_boolean_mask_lazy(case, helper, lazy):
    """x[mask] with a dask mask: a selection of unknown size, scattered back block by block."""
    data, chunks, mask_chunks = MASK_CASES[case]
    x = da.from_array(data, chunks=chunks)
    mask = da.from_array(data > 0.3, chunks=mask_chunks)
    v_n = np.cos(np.arange(data.size)).reshape(data.shape)
    v = da.from_array(v_n, chunks=mask_chunks)  # v chunked unlike x: rechunked like x

    def f(z):
        return np.sum(z[mask] ** 3)

    sel = data > 0.3
    # closed forms: grad = 3 x^2 on the mask, H v = 6 x v on the mask, 0 elsewhere
    if helper == "gradient":
        out, expected = lazy(lambda: reverse.gradient(f, x)), np.where(sel, 3 * data ** 2, 0)
    elif helper == "jvp":
        t = lazy(lambda: hyperdual.jvp(f, x, v))[1]
        np.testing.assert_allclose(np.asarray(t), np.sum(3 * data[sel] ** 2 * v_n[sel]),
                                   rtol=1e-13)
        return
    else:
        out = lazy(lambda: reverse.hvp(f, x, v, mode=helper))
        expected = np.where(sel, 6 * data * v_n, 0)
    _close(out, expected)
    assert out.chunks == x.chunks


def test_dask_mask_of_the_data_itself(lazy):
    x = da.from_array(XN, chunks=25)
    g = lazy(lambda: reverse.gradient(lambda z: np.sum(np.sin(z[z > 0])), x))
    _close(g, np.where(XN > 0, np.cos(XN), 0))


def test_dask_mask_refused_where_not_supported():
    x2 = da.from_array(X2, chunks=(2, 3))
    # a mask over some axes only: a clear error, with the way out
    with pytest.raises(TypeError, match="full shape"):
        reverse.gradient(lambda z: np.sum(z[z[:, 0] > 0] ** 2), x2)
    # a numpy N-d mask on dask data: dask's selection has chunks of unknown size
    with pytest.raises(TypeError, match="unknown size"):
        reverse.gradient(lambda z: np.sum(z[X2 > 0.3] ** 2), x2)


def test_fancy_index_hyperdual_jvp_lazy(lazy):
    index = (slice(None), [5, 2, 2])
    x = da.from_array(X2, chunks=(2, 3))
    v_n = np.cos(np.arange(X2.size)).reshape(X2.shape)
    val, t = lazy(lambda: hyperdual.jvp(lambda z: np.sum(z[tuple(index)] ** 3), x,
                                          da.from_array(v_n, chunks=(2, 3))))
    sel = tuple(index)
    np.testing.assert_allclose(np.asarray(t), np.sum(3 * X2[sel] ** 2 * v_n[sel]),
                               rtol=1e-13)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_rosenbrock_hvp_lazy_both_modes(mode, lazy):
    v_n = XN[::-1].copy()
    x = da.from_array(XN, chunks=25)
    v = da.from_array(v_n, chunks=25)
    h = lazy(lambda: reverse.hvp(rosen, x, v, mode=mode))
    # truth: the closed-form Hessian of extended Rosenbrock times v
    _close(h, rosen_hess(XN) @ v_n)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_logistic_hvp_lazy_both_modes(mode, lazy):
    X = da.from_array(AN, chunks=(40, 4))
    y = da.from_array(YN, chunks=40)
    h = lazy(lambda: reverse.hvp(logistic(X, y), da.from_array(WN), da.from_array(VN),
                                  mode=mode))
    s = 1 / (1 + np.exp(-YN * (AN @ WN)))
    H = AN.T @ (AN * (s * (1 - s))[:, None]) / len(YN)
    _close(h, H @ VN)


def test_hyperdual_jvp_lazy(lazy):
    x = da.from_array(XN, chunks=25)
    v = da.from_array(np.ones_like(XN), chunks=25)
    val, t = lazy(lambda: hyperdual.jvp(rosen, x, v))
    np.testing.assert_allclose(np.asarray(val), rosen(XN), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(t), rosen_grad(XN).sum(), rtol=1e-12)


def test_dual_with_dask_parts_stays_lazy(lazy):
    x = da.from_array(XN, chunks=25)
    d = lazy(lambda: np.sin(hyperdual.Dual(x, x)) * x / (1 + x ** 2))
    assert isinstance(d.real, da.Array) and isinstance(d.dual, da.Array)
    e = np.sin(hyperdual.Dual(XN, XN)) * XN / (1 + XN ** 2)
    np.testing.assert_allclose(d.dual.compute(), e.dual, rtol=1e-14)


XP = np.linspace(0.5, 1.5, 12)
VP = np.cos(np.arange(12.0))


def _engines(lazy, f, x, v):
    """Gradient, both HVP modes and hyperdual's JVP of ``f``, each asserted lazy."""
    return {
        "grad": lazy(lambda: reverse.gradient(f, x)),
        "hvp-fr": lazy(lambda: reverse.hvp(f, x, v, mode="forward-over-reverse")),
        "hvp-rr": lazy(lambda: reverse.hvp(f, x, v, mode="reverse-over-reverse")),
        "jvp": lazy(lambda: hyperdual.jvp(f, x, v))[1],
    }


def test_x_pow_x_lazy_and_exact(lazy):
    x, v = da.from_array(XP, chunks=5), da.from_array(VP, chunks=5)
    out = _engines(lazy, lambda z: np.sum(z ** z), x, v)
    # closed forms: d/dx x^x = x^x (log x + 1), d2 = x^x ((log x + 1)^2 + 1/x)
    g = XP ** XP * (np.log(XP) + 1)
    h = XP ** XP * ((np.log(XP) + 1) ** 2 + 1 / XP)
    _close(out["grad"], g)
    _close(out["hvp-fr"], h * VP)
    _close(out["hvp-rr"], h * VP)
    np.testing.assert_allclose(np.asarray(out["jvp"]), g @ VP, rtol=1e-13)


def _prod_derivatives(x):
    """Gradient and Hessian of prod(x) by direct products of the other entries."""
    n = x.size
    g = np.array([np.prod(np.delete(x, i)) for i in range(n)])
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                H[i, j] = np.prod(np.delete(x, [i, j]))
    return g, H


@pytest.mark.parametrize("zeros", [[], [3], [3, 8]])
def test_prod_lazy_and_exact(zeros, lazy):
    xn = XP.copy()
    xn[zeros] = 0.0
    x, v = da.from_array(xn, chunks=5), da.from_array(VP, chunks=5)
    out = _engines(lazy, np.prod, x, v)
    g, H = _prod_derivatives(xn)
    _close(out["grad"], g)
    _close(out["hvp-fr"], H @ VP)
    _close(out["hvp-rr"], H @ VP)
    np.testing.assert_allclose(np.asarray(out["jvp"]), g @ VP, rtol=1e-13, atol=1e-15)


def test_prod_along_axis_lazy_and_exact(lazy):
    xn = XP.copy()
    xn[5] = 0.0
    x, v = da.from_array(xn, chunks=5), da.from_array(VP, chunks=5)
    out = _engines(lazy, lambda z: np.sum(np.prod(np.reshape(z, (3, 4)), axis=1) ** 2), x, v)
    # rows are independent: f = sum_r p_r^2, grad = 2 p_r dp_r, H = 2 (dp dp^T + p d2p)
    g = np.zeros(12)
    H = np.zeros((12, 12))
    for r in range(3):
        s = slice(4 * r, 4 * r + 4)
        p = np.prod(xn[s])
        dp, d2p = _prod_derivatives(xn[s])
        g[s] = 2 * p * dp
        H[s, s] = 2 * (np.outer(dp, dp) + p * d2p)
    _close(out["grad"], g)
    _close(out["hvp-fr"], H @ VP)
    _close(out["hvp-rr"], H @ VP)


@pytest.mark.parametrize("helper", ["gradient", "hvp-fr", "hvp-rr"])
def test_no_numpy_array_of_size_n_in_the_graph(helper, lazy):
    """Seeds and zeros are dask arrays: no full-size numpy array is embedded in the graph."""
    import pickle

    n = 200_000  # a float64 numpy array of this size pickles to 1.6 MB
    x = np.cos(da.arange(n, chunks=50_000, dtype=np.float64) * 1e-3)
    v = da.ones(n, chunks=50_000)
    call = {"gradient": lambda: reverse.gradient(rosen, x),
            "hvp-fr": lambda: reverse.hvp(rosen, x, v, mode="forward-over-reverse"),
            "hvp-rr": lambda: reverse.hvp(rosen, x, v, mode="reverse-over-reverse")}[helper]
    out = lazy(call)
    size = sum(len(pickle.dumps(t)) for t in dict(out.__dask_graph__()).values())
    assert size < 400_000, f"the graph pickles to {size} bytes"


@pytest.mark.parametrize("helper", ["gradient", "forward-over-reverse", "reverse-over-reverse"])
def test_zero_cotangent_guard_is_lazy_too(helper, lazy):
    """sqrt'(0) = inf in the branch np.where does not take: the gradient there is 0, not NaN.

    numpy data gets this from a redo of the backward pass with the guard on;
    lazy data runs the guarded pass at once, its masks applied without a compute.
    """
    xn = np.array([0.0, 1.0, 4.0, 0.0, 9.0])
    x = da.from_array(xn, chunks=2)

    def f(z):
        return np.sum(np.where(z > 0, np.sqrt(z), 0.0))

    with np.errstate(divide="ignore", invalid="ignore"):
        if helper == "gradient":
            out = lazy(lambda: reverse.gradient(f, x))
            expected = np.where(xn > 0, 0.5 / np.sqrt(np.where(xn > 0, xn, 1.0)), 0.0)
        else:
            out = lazy(lambda: reverse.hvp(f, x, da.ones(5, chunks=2), mode=helper))
            expected = np.where(xn > 0, -0.25 * np.where(xn > 0, xn, 1.0) ** -1.5, 0.0)
        _close(out, expected)


@pytest.mark.parametrize("helper", ["gradient", "value_and_gradient", "hvp-fr", "hvp-rr"])
@pytest.mark.parametrize("f", [rosen, lambda z: np.mean(np.logaddexp(0, -np.sin(z) * z))],
                         ids=["rosenbrock", "mean"])
def test_no_chunk_larger_than_the_input_chunks(helper, f, lazy):
    """Bounded memory: every array of the graph is chunked as finely as the input.

    The cotangent of a full sum broadcast by ``np.broadcast_to`` would be one
    chunk as long as the data, and every backward op after it would run on it
    (at n = 10^9, 8 GB per op on one worker).
    """
    x = da.from_array(XN[:100], chunks=10)
    v = da.from_array(np.cos(XN[:100]), chunks=10)
    call = {"gradient": lambda: reverse.gradient(f, x),
            "value_and_gradient": lambda: reverse.value_and_gradient(f, x)[1],
            "hvp-fr": lambda: reverse.hvp(f, x, v, mode="forward-over-reverse"),
            "hvp-rr": lambda: reverse.hvp(f, x, v, mode="reverse-over-reverse")}[helper]
    out = lazy(call)
    assert out.chunks == x.chunks
    graph = out.__dask_graph__()
    big = {}
    for name, layer in graph.layers.items():
        chunks = (layer.collection_annotations or {}).get("chunks") or ()
        longest = max((max(c) for c in chunks if c), default=0)
        if longest > 10:
            big[name] = longest
    assert not big, f"chunks longer than the input's 10: {big}"
