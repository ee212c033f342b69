"""``python -m hyperdual``: the derivative calculator of :mod:`hyperdual.cli`."""

import os
import sys

from hyperdual.cli import main

if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `python -m hyperdual ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)
