"""A seeded subset of ``scripts/fuzz_derivatives.py``: random compositions of 2-5
elementwise numpy and scipy.special functions (``_sympy_fuzz.UNARY``/``BINARY``:
91 operations) at random points inside their domains, through every helper of
both engines and every nesting of two (gradient, hessian, hvp in both modes,
jvp, vjp, value_and_gradient, derivative/second_derivative along a direction,
third derivatives by ``derivatives``/``taylor``/``nth_derivative``/
``derivative_tensor`` in Taylor mode and by backprop, jacobian of
gradient/hessian/hvp, hessian of derivative, three nested derivatives in all
eight engine combinations ..., 63 paths), against sympy's
exact derivatives evaluated by mpmath at 50 digits.  The tolerance is 64 ulps
times a condition number computed with mpmath from the sensitivity of each
entry to a relative perturbation of every intermediate value (see the module
docstring of ``_sympy_fuzz``), never flat.  ``EXACTDIFF_SWEEP=N`` draws N
expressions per seed.
"""

from __future__ import annotations

import os
import random

import pytest

pytest.importorskip("sympy")
pytest.importorskip("mpmath")

from tests.reliability import _sympy_fuzz as fz  # noqa: E402


@pytest.mark.parametrize("seed", [11, 12])
def test_random_compositions_every_helper_and_nesting(seed):
    rng = random.Random(seed)
    count = int(os.environ.get("EXACTDIFF_SWEEP", "6"))
    stats: dict = {}
    bad: list = []
    cases = 0
    for _ in range(count):
        node = fz.random_expression(rng, rng.randint(2, 4))
        try:
            case = fz.make_case(node)
        except ValueError:  # no variable left
            continue
        p = fz.draw_point(rng, case)
        if p is None:
            continue
        cases += 1
        bad += fz.check(case, p, stats=stats)
    checked = sum(v for k, v in stats.items() if not k.startswith("unsupported"))
    assert cases >= count // 2 and checked > 100 * cases // 2, (cases, checked)
    assert not bad, f"{len(bad)} wrong:\n" + "\n".join(map(str, bad[:10]))


def test_the_truth_keeps_a_derivative_that_cancels_at_fifty_digits():
    # d/dx1 erfc(tanh(x1**3)) at x1 = 4.843745: sympy writes tanh' as 1 - tanh**2, all
    # of which cancels at 50 digits (tanh(113.6) = 1 - 2e-99), so the truth was 0 and
    # every exact result (-2.28e-97) counted as wrong; the closed form with sech**2 by
    # exp cancels nothing
    import mpmath as M
    import numpy as np

    node = fz.Node("u", "erfc", children=[fz.Node("u", "tanh", children=[
        fz.Node("u", "pow3", children=[fz.Node("x", index=1)])])])
    case = fz.make_case(node)
    p = np.array([3.56908, 4.843745])
    _, g, _, _ = fz._unpack(case.truth(p))
    with M.workdps(50):
        x = M.mpf(float(p[1]))
        u = x**3
        sech2 = 4 / (M.exp(u) + M.exp(-u)) ** 2
        want = -2 / M.sqrt(M.pi) * M.exp(-M.tanh(u) ** 2) * sech2 * 3 * x**2
        assert g[0] == 0
        assert abs(g[1] - want) <= M.mpf("1e-40") * abs(want), (g[1], want)
    assert not fz.check(case, p, only={"hd.gradient", "rv.gradient", "hd.hessian"})
