"""Sweep the far range through nested helpers: every unary rule of the table, composed
with exp(v) and alone, at points from 1e-300 to 1e300 (v = +-100 .. +-700), third
derivative through all 12 nestings of first- and second-order helpers of both engines
(``hd(hd(hd))`` ... ``rv(rv2)``).

Usage::

    PYTHONPATH=$PWD python scripts/sweep_nested_range.py [RULE ...]

Prints each entry that is nan or raises where f itself is finite, and each that differs
from Taylor mode (``hyperdual.nth_derivative``) by more than 1e-8 relative.  Taylor mode
is a reference here, not the truth: at the far range it has its own known limits (see
README, Conventions), and a difference in the last digits of a cancelled sum is
expected; a nan is not.  Not part of the test command;
``tests/reliability/test_rel_taylor_underflow.py`` holds the cases found and fixed.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hyperdual as hd  # noqa: E402
from tests.reliability.test_rel_chain_range import REF, _fn  # noqa: E402
from tests.reliability.test_rel_taylor_underflow import SKIP, _nestings  # noqa: E402

INNERS = {
    "exp": (np.exp, [s * m for m in (100.0, 300.0, 360.0, 500.0, 700.0) for s in (1, -1)]),
    "id": (lambda v: v, [s * 10.0 ** e for e in (-300, -150, -50, 50, 150, 300)
                         for s in (1, -1)]),
}


def sweep(only: list[str]) -> list[tuple]:
    flagged = []
    for name in sorted(REF):
        if name in SKIP or (only and name not in only):
            continue
        fn = _fn(name)
        for iname, (inner, points) in INNERS.items():
            for v in points:
                g = lambda t, fn=fn, inner=inner: fn(inner(t))  # noqa: E731
                try:
                    value = g(v)
                except Exception:  # noqa: BLE001 - outside the rule's domain
                    continue
                if isinstance(value, complex) or not np.isfinite(value):
                    continue
                try:
                    ref = hd.nth_derivative(g, v, 3)
                except Exception:  # noqa: BLE001
                    ref = None
                for label, path in _nestings():
                    try:
                        got = path(g, v)
                    except Exception as e:  # noqa: BLE001 - every exception is a finding
                        flagged.append((name, iname, v, label, f"raised {e!r:.100}"))
                        continue
                    if np.isnan(got):
                        flagged.append((name, iname, v, label, "nan", ref))
                    elif (ref is not None and np.isfinite(ref) and np.isfinite(got)
                          and abs(got - ref) > 1e-8 * abs(ref) + 1e-300):
                        flagged.append((name, iname, v, label, got, ref))
    return flagged


def main() -> None:
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    t0 = time.perf_counter()
    flagged = sweep(sys.argv[1:])
    print(f"flagged {len(flagged)} in {time.perf_counter() - t0:.0f} s")
    for row in flagged:
        print(*row)


if __name__ == "__main__":
    main()
