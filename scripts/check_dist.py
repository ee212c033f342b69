"""Check the built wheel and sdist (run by ``tox -e build`` after ``twine check``).

Both packages with their ``py.typed`` markers and the rule subpackages must be
in the wheel, the licence in both archives, and the version the one of
``hyperdual/_version.py``.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(dist: str) -> int:
    version = re.search(r'__version__ = "([^"]+)"',
                        (ROOT / "hyperdual" / "_version.py").read_text()).group(1)
    wheels = list(Path(dist).glob("exactdiff-*.whl"))
    sdists = list(Path(dist).glob("exactdiff-*.tar.gz"))
    problems = []
    if len(wheels) != 1 or len(sdists) != 1:
        problems.append(f"expected one wheel and one sdist in {dist}, got {wheels + sdists}")
    for w in wheels:
        names = set(zipfile.ZipFile(w).namelist())
        for need in ("hyperdual/__init__.py", "hyperdual/py.typed", "hyperdual/rules/__init__.py",
                     "reverse/__init__.py", "reverse/py.typed", "reverse/rules/__init__.py"):
            if need not in names:
                problems.append(f"{w.name}: missing {need}")
        if not any(n.endswith("LICENSE") for n in names):
            problems.append(f"{w.name}: no LICENSE")
        if f"-{version}-" not in w.name:
            problems.append(f"{w.name}: version is not {version}")
    for s in sdists:
        names = tarfile.open(s).getnames()
        if not any(n.endswith("/LICENSE") for n in names):
            problems.append(f"{s.name}: no LICENSE")
    for p in problems:
        print("check_dist:", p)
    if not problems:
        print(f"check_dist: {[p.name for p in wheels + sdists]} complete (version {version})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
