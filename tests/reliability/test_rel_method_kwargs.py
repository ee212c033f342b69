"""``x.max(initial=...)`` / ``x.min(where=..., initial=...)`` on a Variable.

``np.max(x, initial=...)`` worked in both engines and ``Dual.max(initial=...)`` too, but
``Variable.max``/``Variable.min`` took only ``axis`` and ``keepdims``: TypeError
"unexpected keyword argument 'initial'" where hyperdual gave the derivative.  The
methods now pass numpy's other arguments to the function's rule.  Truth: the value is
numpy's; the gradient is the indicator of the selected entry (0 where ``initial`` wins).
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

X = np.array([0.5, 2.0, 3.0])
MASK = np.array([True, False, True])

CASES = {
    "max initial wins": (lambda x: x.max(initial=10.0), [0.0, 0.0, 0.0]),
    "max initial below": (lambda x: x.max(initial=1.0), [0.0, 0.0, 1.0]),
    "max where": (lambda x: x.max(axis=0, where=MASK, initial=-1.0), [0.0, 0.0, 1.0]),
    "min where": (lambda x: x.min(where=MASK, initial=9.0), [1.0, 0.0, 0.0]),
    "min initial below": (lambda x: x.min(initial=0.1), [0.0, 0.0, 0.0]),
    "min keepdims": (lambda x: x.reshape(1, 3).min(axis=1, keepdims=True, initial=0.6)[0, 0],
                     [1.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("mod", [hd, rv], ids=["hd", "rv"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_method_initial_where_value_and_gradient(mod, name):
    f, grad = CASES[name]
    value, g = mod.value_and_gradient(f, X)
    assert value == f(X)
    assert np.array_equal(g, grad)


def test_method_out_is_refused_clearly():
    with pytest.raises(TypeError, match="out"):
        rv.gradient(lambda x: x.max(out=np.zeros(())), X)
