"""Run a command with numpy's AVX-512 kernels switched off.

``python scripts/without_avx512.py pytest -q`` runs the suite as it would run on
a CPU without AVX-512: numpy's SIMD loops for exp, sin, tanh ... then take
their AVX2 (or baseline) paths, which round differently in the last ulp.  A
test that compares two correct implementations at a flat 1e-15 passes on one
CPU and fails on the other; running the suite both ways is how such a test is
caught (the ``noavx512`` tox environment).

``NPY_DISABLE_CPU_FEATURES`` only accepts names of the features this numpy
dispatches, and the names changed in numpy 2.4 (``X86_V4`` groups the AVX-512
base set that 1.x and early 2.x call ``AVX512F``, ``AVX512_SKX`` ...).  A name
numpy does not know is ignored with an ImportWarning, so a hard-coded list
silently disables nothing on one of the two; this script asks the installed
numpy which AVX-512 features it dispatches and the CPU has, disables those,
and checks in a child interpreter that they are off before running the
command.
"""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = (
    "import numpy as np\n"
    "try:\n"
    "    from numpy._core import _multiarray_umath as m\n"
    "except ImportError:\n"
    "    from numpy.core import _multiarray_umath as m\n"
    "print(' '.join(f for f in m.__cpu_dispatch__ if m.__cpu_features__.get(f)))\n"
)


def _active_dispatch(env: dict[str, str]) -> list[str]:
    """The dispatched CPU features that are switched on under ``env``."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.split()


def _is_avx512(feature: str) -> bool:
    return feature.startswith("AVX512") or feature == "X86_V4"


def main(argv: list[str]) -> int:
    """Disable the AVX-512 features, verify, then run ``argv``; return its exit code."""
    if not argv:
        print("usage: python scripts/without_avx512.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    wanted = [f for f in _active_dispatch(env) if _is_avx512(f)]
    if not wanted:
        print("without_avx512: this CPU/numpy runs no AVX-512 kernels; running as is")
    else:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(wanted)
        left = [f for f in _active_dispatch(env) if _is_avx512(f)]
        if left:
            print(f"without_avx512: numpy kept {left} switched on", file=sys.stderr)
            return 1
        print(f"without_avx512: NPY_DISABLE_CPU_FEATURES={env['NPY_DISABLE_CPU_FEATURES']!r}")
    return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
