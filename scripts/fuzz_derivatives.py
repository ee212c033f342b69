"""Hunt for silently wrong derivatives: random compositions of 2-5 elementwise numpy
and scipy.special functions, differentiated by every helper of both engines and
their nestings (gradient, hessian, third derivatives by Taylor mode, backprop and
nested helpers, jvp/vjp, hvp in both modes), against sympy's exact derivatives
evaluated by mpmath at 50 digits (``tests/reliability/_sympy_fuzz.py`` has the
generator, the paths and the tolerance: a few ulps times a condition number
computed with mpmath).

Usage::

    PYTHONPATH=$PWD python3 scripts/fuzz_derivatives.py --seed 1 --count 1000

prints every wrong entry as it is found and, at the end, the number of cases,
the entries checked per path, the paths that raised "not supported" and the
failures.  About 1 s per case on one core.  The seeded subset that runs in the
test suite is ``tests/reliability/test_rel_sympy_fuzz.py``.
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import random
import signal
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "reliability"))

import _sympy_fuzz as fz  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100, help="expressions to draw")
    ap.add_argument("--min-ops", type=int, default=2)
    ap.add_argument("--max-ops", type=int, default=5)
    ap.add_argument("--timeout", type=int, default=120,
                    help="seconds per case (sympy's third derivatives of some compositions "
                         "swell); a case over it is counted as the harness's")
    ap.add_argument("--wide", action="store_true",
                    help="points of magnitude 1e-2 .. 30 (default 0.6 .. 6)")
    ap.add_argument("--special", action="store_true",
                    help="also draw the closed-form scipy.special rules "
                         "(expi, ellipk, hyp2f1 ...: _sympy_fuzz.SPECIAL_UNARY)")
    args = ap.parse_args(argv)
    unary = sorted(fz.UNARY) if args.special else None
    scales = (0.005, 0.05, 0.5, 1.0, 5.0, 15.0) if args.wide else fz.SCALES
    rng = random.Random(args.seed)
    stats: dict = {}
    failures: list = []
    cases = skipped = harness = 0
    per_op = collections.Counter()
    t0 = time.time()

    def _timeout(*_):
        raise TimeoutError(f"over {args.timeout} s")

    signal.signal(signal.SIGALRM, _timeout)
    for i in range(args.count):
        signal.alarm(args.timeout)
        node = fz.random_expression(rng, rng.randint(args.min_ops, args.max_ops), unary)
        try:
            case = fz.make_case(node)
        except ValueError:
            skipped += 1
            continue
        except Exception as e:  # noqa: BLE001 - sympy cannot print or differentiate it
            harness += 1
            print(f"harness: {fz.describe(node)}: {type(e).__name__}: {str(e)[:100]}",
                  flush=True)
            continue
        try:
            p = fz.draw_point(rng, case, scales=scales)
        except Exception as e:  # noqa: BLE001
            harness += 1
            print(f"harness: {fz.describe(node)}: {type(e).__name__}: {str(e)[:100]}",
                  flush=True)
            continue
        if p is None:
            skipped += 1
            continue
        cases += 1
        per_op.update(fz.op_names(node))
        try:
            found = fz.check(case, p, stats=stats)
        except Exception as e:  # noqa: BLE001
            harness += 1
            print(f"harness: {fz.describe(node)} at {p.tolist()}: {type(e).__name__}: "
                  f"{str(e)[:100]}", flush=True)
            continue
        for f in found:
            print(f, flush=True)
        failures += found
        if (i + 1) % 10 == 0:
            print(f"... {i + 1} drawn, {cases} cases, {len(failures)} wrong entries, "
                  f"{time.time() - t0:.0f} s", flush=True)
    signal.alarm(0)
    print(f"\nseed {args.seed}: {cases} cases ({skipped} skipped: constant or no point in "
          f"the domain; {harness} the harness could not evaluate), {time.time() - t0:.0f} s")
    print(f"entries checked: {sum(v for k, v in stats.items() if not k.startswith('uns'))}")
    for k in sorted(stats):
        print(f"  {k}: {stats[k]}")
    print("operations drawn:", dict(sorted(per_op.items())))
    by_path = collections.Counter(f.path.split(" raised")[0] for f in failures)
    print(f"wrong entries: {len(failures)}", dict(by_path))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
