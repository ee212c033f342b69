"""Scalar Taylor arithmetic on Python lists of floats: the fast path of Taylor mode.

A scalar :class:`hyperdual.Taylor` seeded from a float keeps its K + 1
coefficients as a Python list.  For K up to a few dozen, the O(K²)
recurrences cost less as straight-line Python float arithmetic than as numpy
calls on arrays of K + 1 elements (each numpy call costs about a microsecond
whatever its size, and a recurrence needs K of them).  So for each order K
the kernels below are *generated* once as unrolled Python source (no loops,
no indexing, every coefficient a local variable) and compiled with
``exec``; orders above :data:`MAX_UNROLLED` use the loop recurrences of
:mod:`hyperdual._taylor_rules`, which take lists too.

The kernels compute the same recurrences as :mod:`hyperdual._taylor_rules`
(Griewank & Walther ch. 13).  They raise the float exceptions of Python's
arithmetic (ZeroDivisionError, OverflowError, ValueError from ``math``):
the caller then redoes the operation on the numpy path, which gives numpy's
inf/nan with its warning and handles the branch points.
"""

from __future__ import annotations

import math

from . import _taylor_rules as tr

#: Highest order for which unrolled kernels are generated (their source grows as K²).
MAX_UNROLLED = 24

_CACHE: dict = {}


def _names(p, K, lo=0):
    return ", ".join(f"{p}{i}" for i in range(lo, K + 1))


def _sum(terms):
    return " + ".join(terms) if terms else "0.0"


def _over(expr, k, neg=False):
    """``expr / k`` (``-expr / k`` with neg) as cheap exact source: no division for
    k = 1, a product for powers of two (exact), a float divisor otherwise (CPython
    specialises float * float, and float / float skips the int conversion)."""
    if k == 1:
        return f"-({expr})" if neg else f"({expr})"
    sign = "-" if neg else ""
    if k & (k - 1) == 0:
        return f"({expr}) * {sign}{1.0 / k!r}"
    return f"({expr}) / {sign}{float(k)!r}"


def _unpack(p, src, K):
    return f"    {_names(p, K)}, = {src}"


def _sym(p, k, lo=0):
    """sum_{j=lo..k-lo} p_j p_{k-j} with each product once (a symmetric sum)."""
    pairs = [f"{p}{j} * {p}{k - j}" for j in range(lo, (k + 1) // 2)]
    twice = f"2.0 * ({_sum(pairs)})" if pairs else ""
    mid = f"{p}{k // 2} * {p}{k // 2}" if k % 2 == 0 and k // 2 >= lo else ""
    return " + ".join(t for t in (twice, mid) if t) or "0.0"


def _src_mul(K):
    lines = ["def mul(a, b):", _unpack("a", "a", K), _unpack("b", "b", K)]
    out = [_sum([f"a{j} * b{k - j}" for j in range(k + 1)]) for k in range(K + 1)]
    lines.append("    return [" + ", ".join(out) + "]")
    return lines


def _src_lmul(K):
    # a * b where b is a straight line b_0 + b_1 t (a seed variable): 2K + 1 products
    # (b_1 = 1, the helpers' seed, skips K products: a * 1.0 is a exactly)
    lines = ["def lmul(a, b):", _unpack("a", "a", K), "    b0, b1 = b[0], b[1]"]
    unit = ["a0 * b0"] + [f"a{k} * b0 + a{k - 1}" for k in range(1, K + 1)]
    out = ["a0 * b0"] + [f"a{k} * b0 + a{k - 1} * b1" for k in range(1, K + 1)]
    lines.append("    if b1 == 1.0:")
    lines.append("        return [" + ", ".join(unit) + "]")
    lines.append("    return [" + ", ".join(out) + "]")
    return lines


class Line(list):
    """The coefficient list of a seed ``x_0 + x_1 t`` (its higher coefficients are 0):
    products with it cost O(K) (:func:`_src_lmul`).  Every operation returns a plain
    list, so only the seed itself carries the mark."""

    __slots__ = ()


def _factorial_floats(K):
    """0!, ..., K! as floats, each the product of the one before and k (as
    :func:`hyperdual._taylor.factorials`, so the products below are the same)."""
    out, f = [], 1.0
    for k in range(K + 1):
        f = f * k if k else 1.0
        out.append(f)
    return out


def _src_scale(K):
    # k! a_k: the derivatives from the normalised coefficients
    lines = ["def scale(a):", _unpack("a", "a", K)]
    out = [f"a{k}" if f == 1.0 else f"a{k} * {f!r}"
           for k, f in enumerate(_factorial_floats(K))]
    lines.append("    return [" + ", ".join(out) + "]")
    return lines


def _loop_scale(a):
    return [v * f for v, f in zip(a, _factorial_floats(len(a) - 1))]


def _src_div(K):
    # q = a / b: b_0 q_k = a_k - sum_{j=1..k} b_j q_{k-j}
    lines = ["def div(a, b):", _unpack("a", "a", K), _unpack("b", "b", K),
             "    q0 = a0 / b0"]
    for k in range(1, K + 1):
        lines.append(f"    q{k} = (a{k} - ({_sum([f'b{j} * q{k - j}' for j in range(1, k + 1)])}"
                     ")) / b0")
    lines.append(f"    return [{_names('q', K)}]")
    return lines


def _src_rdiv(K):
    # q = c / b for a constant c: b_0 q_k = - sum_{j=1..k} b_j q_{k-j}
    lines = ["def rdiv(c, b):", _unpack("b", "b", K), "    q0 = c / b0"]
    for k in range(1, K + 1):
        lines.append(f"    q{k} = -({_sum([f'b{j} * q{k - j}' for j in range(1, k + 1)])}) / b0")
    lines.append(f"    return [{_names('q', K)}]")
    return lines


def _weights(K):
    # w_j = j x_j: the coefficients of t x'(t)
    return [f"    w{j} = {j}.0 * x{j}" if j > 1 else "    w1 = x1" for j in range(1, K + 1)]


def _src_sincos(K, name, value):
    # s' = c x', c' = -s x' (sin/cos); s' = c x', c' = s x' (sinh/cosh); the last
    # coefficient of the partner series is not needed
    sign = "-" if name in ("sin", "cos") else ""
    out = "s" if name in ("sin", "sinh") else "c"
    lines = [f"def {name}(x):", _unpack("x", "x", K),
             f"    s0 = {value}s(x0)", f"    c0 = {value}c(x0)"]
    lines += _weights(K)
    for k in range(1, K + 1):
        if k < K or out == "s":
            lines.append(f"    s{k} = " + _over(_sum([f"w{j} * c{k - j}" for j in range(1, k + 1)]),
                                              k))
        if k < K or out == "c":
            lines.append(f"    c{k} = " + _over(_sum([f"w{j} * s{k - j}" for j in range(1, k + 1)]),
                                              k, neg=bool(sign)))
    lines.append(f"    return [{_names(out, K)}]")
    return lines


def _src_exp(K):
    lines = ["def exp(x):", _unpack("x", "x", K), "    y0 = _exp(x0)"]
    lines += _weights(K)
    for k in range(1, K + 1):
        lines.append(f"    y{k} = " + _over(_sum([f"w{j} * y{k - j}" for j in range(1, k + 1)]),
                                          k))
    lines.append(f"    return [{_names('y', K)}]")
    return lines


def _src_log(K):
    # x_0 y_k = x_k - (1/k) sum_{j=1..k-1} j y_j x_{k-j}
    lines = ["def log(x):", _unpack("x", "x", K), "    y0 = _log(x0)"]
    for k in range(1, K + 1):
        if k == 1:
            lines.append("    y1 = x1 / x0")
            continue
        s = _sum([f"{j}.0 * y{j} * x{k - j}" if j > 1 else f"y1 * x{k - 1}"
                  for j in range(1, k)])
        lines.append(f"    y{k} = (x{k} - {_over(s, k)}) / x0")
    lines.append(f"    return [{_names('y', K)}]")
    return lines


def _src_sqrt(K):
    # 2 y_0 y_k = x_k - sum_{j=1..k-1} y_j y_{k-j}
    lines = ["def sqrt(x):", _unpack("x", "x", K), "    y0 = _sqrt(x0)", "    d = 2.0 * y0"]
    for k in range(1, K + 1):
        if k == 1:
            lines.append("    y1 = x1 / d")
            continue
        lines.append(f"    y{k} = (x{k} - ({_sym('y', k, 1)})) / d")
    lines.append(f"    return [{_names('y', K)}]")
    return lines


def _src_tanh(K, name):
    # y' = w x', w = 1 -/+ y² with w_0 computed without cancellation (tanh: sech²)
    sign = "-" if name == "tanh" else ""
    lines = [f"def {name}(x):", _unpack("x", "x", K), "    y0, v0 = _w0(x0)"]
    lines += _weights(K)
    for k in range(1, K + 1):
        lines.append(f"    y{k} = " + _over(_sum([f"w{j} * v{k - j}" for j in range(1, k + 1)]),
                                          k))
        if k < K:
            lines.append(f"    v{k} = {sign}({_sym('y', k)})")
    lines.append(f"    return [{_names('y', K)}]")
    return lines


def _tanh_w0(x0):
    c = math.cosh(x0)
    return math.tanh(x0), 1.0 / (c * c)


def _tan_w0(x0):
    t = math.tan(x0)
    return t, 1.0 + t * t


_SOURCES = {
    "mul": _src_mul, "lmul": _src_lmul, "div": _src_div, "rdiv": _src_rdiv,
    "scale": _src_scale,
    "sin": lambda K: _src_sincos(K, "sin", "_"),
    "cos": lambda K: _src_sincos(K, "cos", "_"),
    "sinh": lambda K: _src_sincos(K, "sinh", "_h"),
    "cosh": lambda K: _src_sincos(K, "cosh", "_h"),
    "exp": _src_exp, "log": _src_log, "sqrt": _src_sqrt,
    "tanh": lambda K: _src_tanh(K, "tanh"), "tan": lambda K: _src_tanh(K, "tan"),
}
_GLOBALS = {"_s": math.sin, "_c": math.cos, "_hs": math.sinh, "_hc": math.cosh,
            "_exp": math.exp,
            "_log": math.log, "_sqrt": math.sqrt, "__builtins__": {}}
_W0 = {"tanh": _tanh_w0, "tan": _tan_w0}


def _loop_mul(a, b):
    return tr.conv(a, b)


def _loop_lmul(a, b):
    return [a[0] * b[0]] + [p * b[0] + q * b[1] for p, q in zip(a[1:], a)]


def _loop_rdiv(c, b):
    return tr.divide([c] + [0.0] * (len(b) - 1), b)


_LOOPS = {"mul": _loop_mul, "lmul": _loop_lmul, "div": tr.divide, "rdiv": _loop_rdiv,
          "scale": _loop_scale}


#: The binary kernels (and ``scale``) return plain lists (the caller checks what it
#: needs); the unary ones return None for a result that is not finite.
_BINARY_KERNELS = ("mul", "lmul", "div", "rdiv", "scale")


def _with_check(lines):
    """Replace the final ``return [y0, ..., yK]`` of a generated unary kernel by a
    finiteness check on y0, y(K-1) and yK only.

    That is enough for these recurrences: every coefficient k <= K - 2 of the output (and
    every input coefficient) enters y(K-1) or yK as a term ``w * z`` of a sum (z directly
    or through the partner series of sin/cos, sinh/cosh and tanh/tan, whose coefficient
    K - 1 is the one not fed back), and a sum with a non-finite term is not finite:
    inf + finite = inf, inf - inf = nan, 0 * inf = nan, and nan absorbs everything.  The
    value y0 is checked on its own (sqrt(inf) and log(inf) return inf without raising)."""
    ret = lines[-1]
    names = ret.strip()[len("return ["):-1].split(", ")
    tail = " + ".join(dict.fromkeys([names[0]] + names[-2:]))
    return lines[:-1] + [f"    t = {tail}", "    if t - t == 0.0:", "    " + ret,
                         "    return None"]


def _checked(fn):
    """A loop kernel returning None for a result that is not finite (all checked)."""
    def run(xs):
        ys = fn(xs)
        return ys if ys is not None and finite(ys) else None
    return run


def _build(name: str, K: int):
    src = _SOURCES.get(name)
    if src is None:
        return None
    if K > MAX_UNROLLED or K < 1:
        if name in _BINARY_KERNELS:
            return _LOOPS.get(name)
        return _checked(tr.UNARY[name])
    ns = dict(_GLOBALS)
    if name in _W0:
        ns["_w0"] = _W0[name]
    lines = src(K)
    if name not in _BINARY_KERNELS:
        lines = _with_check(lines)
    code = "\n".join(lines)
    exec(compile(code, f"<hyperdual taylor kernel {name} K={K}>", "exec"), ns)
    return ns[name]


class _ByOrder(dict):
    """order K -> the kernel of one operation, generated on first use."""

    __slots__ = ("name",)

    def __init__(self, name):
        super().__init__()
        self.name = name

    def __missing__(self, K):
        if self.name in _SOURCES:
            fn = _build(self.name, K)
        else:
            fn = _checked(_LIST_UNARY[self.name])
        self[K] = fn
        return fn


def _none(xs):
    return None


class ByLength(dict):
    """len(xs) -> the kernel of one operation for order len(xs) - 1 (a view of a
    :class:`_ByOrder` keyed as the hot path asks); below ``lo`` (by default a lone
    value, K = 0) a kernel answering None, which sends the operation to the numpy path."""

    __slots__ = ("by", "lo")

    def __init__(self, by, lo=2):
        super().__init__()
        self.by = by
        self.lo = lo

    def __missing__(self, n):
        fn = self.by[n - 1] if n >= self.lo else _none
        self[n] = fn
        return fn


#: Unary rules that run on lists by the generic loop recurrences (no kernel).
_LIST_UNARY = {n: f for n, f in tr.UNARY.items()
               if n not in tr.BRANCH_POWERS and not n.startswith(("gammaln", "digamma",
                                                                  "polygamma"))}

#: name -> {K: kernel}: every operation with a list fast path
KERNELS = {n: _ByOrder(n) for n in list(_SOURCES) + list(_LIST_UNARY)}
MUL = KERNELS["mul"]
LMUL = KERNELS["lmul"]
SCALE = KERNELS["scale"]


def kernel(name: str, K: int):
    """The kernel ``name`` for order K (generated on first use)."""
    return KERNELS[name][K]


def unary(name: str, xs: list):
    """f applied to the float coefficients ``xs``, or None: not finite, a float
    exception, or no list rule (the caller takes the numpy path)."""
    by = KERNELS.get(name)
    if by is None or len(xs) < 2:
        return None
    return run(by, xs)


def run(by, xs):
    """``by[K](xs)`` or None on a float exception or a result that is not finite (the
    unary kernels check their results themselves)."""
    try:
        return by[len(xs) - 1](xs)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None


def finite(ys) -> bool:
    """Every coefficient a finite float."""
    s = sum(ys)
    return type(s) is float and s - s == 0.0
