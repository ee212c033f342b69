"""The scalar fast paths (Python-float parts) agree with the general array path."""

import numpy as np
import pytest

import hyperdual
from hyperdual import Dual, HyperDual, _generic, _rules
from tests._tolerance import assert_close_ulps

# math.* (scalar path) and numpy's SIMD ufuncs (array path) are each within an
# ulp or two of the truth, so the paths may differ by a few ulps (CPU-dependent:
# AVX-512 loops differ from the baseline ones), times the condition number of
# the chain rule that combines f' and f'' into the parts.
ULPS = 4

# Points inside each rule's domain.
DOMAIN = {
    "arcsin": [-0.9, 0.1, 0.6], "arccos": [-0.9, 0.1, 0.6], "arctanh": [-0.9, 0.1, 0.6],
    "arccosh": [1.2, 3.0], "log": [0.1, 2.0, 50.0], "log2": [0.1, 2.0, 50.0],
    "log10": [0.1, 2.0, 50.0], "log1p": [-0.9, 0.5, 4.0], "sqrt": [0.1, 2.0, 50.0],
    "gammaln": [0.4, 2.5, 7.0], "digamma": [0.4, 2.5, 7.0], "polygamma1": [0.4, 2.5],
    "polygamma2": [0.4, 2.5], "polygamma3": [0.4, 2.5], "reciprocal": [-2.0, 0.3, 5.0],
    "tan": [-1.0, 0.2, 1.3],
}
DEFAULT = [-1.7, -0.2, 0.4, 2.3]


def fn_of(name):
    return getattr(hyperdual, name, None) or getattr(_generic, name)


def general(parts):
    """The same number with 1-element array parts (forces the general path)."""
    return [np.array([p]) for p in parts]


def agree(fast, slow, cond=None):
    """Same parts up to ULPS x cond (``cond``: one condition number per part)."""
    cond = cond or [1.0] * len(fast._parts())
    for p, q, c in zip(fast._parts(), slow._parts(), cond):
        assert type(p) is float, (fast, type(p))
        assert_close_ulps(p, q[0], ulps=ULPS, cond=c, err_msg=repr(fast))


def hyperdual_cond(z, parts):
    """Condition numbers of the four parts of f(HyperDual(x, a, b, c)):
    eps12 = f''(x) a b + f'(x) c is a sum whose terms may cancel."""
    x, a, b, c = parts
    f1, f2 = z.eps1 / a, (z.eps12 - z.eps1 / a * c) / (a * b)
    terms = float(np.ravel(abs(f2 * a * b) + abs(f1 * c))[0])
    e12 = float(np.ravel(z.eps12)[0])
    return [1.0, 1.0, 1.0, terms / abs(e12) if e12 and np.isfinite(terms / e12) else 1.0]


def _cases():
    for name in _rules.UNARY:
        if name in ("polygamma3",):
            continue  # no second derivative, checked with Dual only below
        for x in DOMAIN.get(name, DEFAULT):
            yield pytest.param(name, x, id=f"{name}-{x}")


@pytest.mark.parametrize("name,x", list(_cases()))
def test_unary_fast_path_agrees_with_general_path(name, x):
    fn = fn_of(name)
    t = 0.75
    agree(fn(Dual(x, t)), fn(Dual(*general((x, t)))))
    if name != "polygamma2":
        parts = (x, 0.5, -1.25, 0.3)
        slow = fn(HyperDual(*general(parts)))
        agree(fn(HyperDual(*parts)), slow, hyperdual_cond(slow, parts))
    ufunc = getattr(np, name, None)
    if isinstance(ufunc, np.ufunc):
        agree(ufunc(Dual(x, t)), ufunc(Dual(*general((x, t)))))


def test_polygamma3_scalar_and_array_paths_agree():
    # its derivative is polygamma(4, x), from the generic family (issue 12)
    from scipy import special

    a = _generic.polygamma3(Dual(0.5, 1.0))
    b = _generic.polygamma3(Dual(np.array([0.5]), 1.0))
    assert a.dual == b.dual[0] == special.polygamma(4, 0.5)


BINOPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "radd": lambda a, b: b + a,
    "rmul": lambda a, b: b * a,
}


@pytest.mark.parametrize("op", list(BINOPS))
@pytest.mark.parametrize("kind", ["Dual", "HyperDual"])
def test_binary_fast_paths_agree_with_general_path(op, kind):
    f = BINOPS[op]
    if kind == "Dual":
        pa, pb = (1.3, -0.4), (0.7, 2.1)
        cls = Dual
    else:
        pa, pb = (1.3, -0.4, 0.25, 1.5), (0.7, 2.1, -0.6, 0.1)
        cls = HyperDual
    a, b = cls(*pa), cls(*pb)
    ga, gb = cls(*general(pa)), cls(*general(pb))
    agree(f(a, b), f(ga, gb))
    # with Python constants on either side (int and float)
    for c in (3, 2.5):
        agree(f(a, c), f(ga, c))
        agree(f(c, a) if op != "pow" else c ** a, f(c, ga) if op != "pow" else c ** ga)


def test_fast_paths_keep_python_floats_and_tags():
    d = Dual(0.3, 1.0, tag=0)
    for y in (hyperdual.sin(d), np.exp(d), d * d, d + 1, 2 * d, d / 3.0, d - d, d ** 3):
        assert type(y.real) is float and type(y.dual) is float
    z = HyperDual(0.3, 1.0, 1.0, 0.0)
    for y in (hyperdual.sin(z), np.tanh(z), z * z, z + 2.0, 3 * z):
        assert all(type(p) is float for p in y._parts())


# --- the ndarray fast lane for + - * / (unstacked Duals) against the general chain rule
@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "true_divide"])
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3, 1), (1, 4)),
                                    ((3,), None), (None, (2, 3)), ((2, 3), "float"),
                                    ((3,), "int"), ("int", (2, 3))])
def test_fast_arith_lane_matches_general_rule(name, shapes):
    from hyperdual._number import _fast_arith
    from hyperdual._rules import BINARY

    rng = np.random.default_rng(3)

    def operand(shape, other):
        if shape is None:  # a constant array shaped like the other operand
            return rng.uniform(0.5, 1.5, other)
        if shape == "float":
            return 1.7
        if shape == "int":
            return 3
        return Dual(rng.uniform(0.5, 1.5, shape), rng.uniform(-1, 1, shape))

    sa, sb = shapes
    a = operand(sa, sb)
    b = operand(sb, sa)
    fast = _fast_arith(name, a, b)
    assert fast is not None
    rule = BINARY[name]
    # the general path: the same rule through the Faa di Bruno machinery with
    # direction-stack-free HyperDuals (eps1 part = Dual's dual part)
    ha = HyperDual(a.real, a.dual, 0.0, 0.0) if isinstance(a, Dual) else a
    hb = HyperDual(b.real, b.dual, 0.0, 0.0) if isinstance(b, Dual) else b
    ref = rule.ufunc(ha, hb)
    assert_close_ulps(fast.real, ref.real)
    np.testing.assert_allclose(fast.dual, ref.eps1, rtol=1e-14, atol=1e-15)
    assert fast.dual.shape == fast.real.shape


# --- the ndarray lane for + - * of HyperDuals with direction stacks (the Hessian's
# inner loop) must agree bit for bit with the general chain rule it short-cuts
def _stacked_hyperdual(rng, tag=0):
    m, k, n = 5, 3, 4
    return HyperDual._build((rng.normal(size=m), rng.normal(size=(k, 1, m)),
                             rng.normal(size=(1, n, m)), rng.normal(size=(k, n, m))), tag, 2)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply"])
@pytest.mark.parametrize("other", ["hyperdual", "float", "array", "float-left", "array-left",
                                   "int", "int-left"])
def test_hyperdual_lane_matches_general_rule_exactly(name, other, monkeypatch):
    from hyperdual import _number
    from hyperdual._rules import BINARY

    rng = np.random.default_rng(11)
    x = _stacked_hyperdual(rng)
    y = {"hyperdual": _stacked_hyperdual(rng), "float": 2.5, "array": rng.normal(size=5),
         "float-left": -1.5, "array-left": rng.normal(size=5), "int": 3, "int-left": -2}[other]
    args = (y, x) if other.endswith("left") else (x, y)
    fast = _number._fast_arith_hyper(name, *args)
    assert fast is not None
    monkeypatch.setattr(_number, "_fast_arith_hyper", lambda *a: None)
    general = _number._binary(BINARY[name], *args)
    assert type(general) is HyperDual
    for pf, pg in zip(fast._parts(), general._parts()):
        assert np.shape(pf) == np.shape(pg)
        np.testing.assert_array_equal(pf, pg)


def test_hyperdual_lane_leaves_infinite_values_to_the_nan_safe_rule():
    """x * x at x = (0, inf): the Hessian's x0 row must not pick up inf * 0 = nan."""
    with np.errstate(all="ignore"):
        h = hyperdual.hessian(lambda x: np.sum(x * x), np.array([0.0, np.inf]))
    np.testing.assert_array_equal(h, [[2.0, 0.0], [0.0, 2.0]])


@pytest.mark.parametrize("cls", [Dual, HyperDual])
def test_negation_shortcut_matches_chain_rule(cls):
    rng = np.random.default_rng(5)
    parts = [rng.normal(size=(2, 3)) for _ in range(cls._NPARTS)]
    x = cls(*parts)
    y = np.negative(x)
    for p, q in zip(y._parts(), parts):
        np.testing.assert_array_equal(p, -q)
    # the same through the general rule: f(x) = -1 * x
    z = x * -1.0
    for p, q in zip(y._parts(), z._parts()):
        np.testing.assert_array_equal(p, q)
