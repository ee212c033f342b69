"""Implicit differentiation through solvers, for reverse mode.

The same functions as :mod:`hyperdual.implicit` (one implementation, which
only evaluates ``f`` on the parameters as given): called with ``Variable``
parameters they record a graph whose derivatives are exact up to order
``hyperdual.implicit.REVERSE_ORDER`` (6 by default; pass ``order=`` for more).

Examples
--------
>>> import reverse
>>> reverse.derivative(lambda a: root(lambda x, b: x ** 2 - b, 1.0, a), 4.0)
0.25
"""

from hyperdual.implicit import REVERSE_ORDER, fixed_point, minimize, root, root_scalar

__all__ = ["REVERSE_ORDER", "fixed_point", "minimize", "root", "root_scalar"]
