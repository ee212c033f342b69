"""``python -m hyperdual``: the derivative calculator of :mod:`hyperdual.cli`."""

import sys

from hyperdual.cli import main

if __name__ == "__main__":
    sys.exit(main())
