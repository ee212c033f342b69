"""Keep freed array memory in the process while direction stacks are in use.

glibc's malloc serves blocks above a threshold (128 KiB at start) with
``mmap`` and returns the top of the heap to the system once more than twice
that threshold is free there.  Both thresholds adapt: freeing an ``mmap``-ed
block raises them to its size (up to 32 MiB), see ``mallopt(3)``.  A direction
stack of a few hundred KiB (three colours at n = 10**4) sits just above the
starting values, so without adaptation every operation on it page-faults its
result into existence and every free hands the pages back: measured 20x
slower than the arithmetic (brk/munmap and page faults dominate).

:func:`keep_heap` allocates and frees, once, one untouched block of the size
the evaluation will use, which is what a program's first large array does
anyway: the thresholds rise, later stacks come from the heap and stay there.
Elsewhere than glibc it is a harmless allocation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["keep_heap"]

#: glibc's upper bound for the adaptive threshold on 64-bit systems.
_CAP = 32 * 2 ** 20
_done = 0


def keep_heap(nbytes: int) -> None:
    """Make blocks up to ``nbytes`` (capped at 32 MiB) stay in the heap.

    Examples
    --------
    >>> keep_heap(2 ** 20)
    """
    global _done
    want = min(int(nbytes) + 65536, _CAP - 4096)  # above the cap: no adaptation
    if want <= _done:
        return
    _done = want
    # never written to: the kernel backs no pages, the call costs microseconds
    np.empty(want, dtype=np.uint8)
