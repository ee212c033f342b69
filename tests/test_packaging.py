"""Packaging: one version for both packages, licence, changelog, typing markers."""

import re
import subprocess
import sys
from pathlib import Path

import hyperdual
import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_one_version_for_both_packages():
    source = (ROOT / "hyperdual" / "_version.py").read_text()
    version = re.search(r'__version__ = "([^"]+)"', source).group(1)
    assert hyperdual.__version__ == reverse.__version__ == version
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+|\.dev\d+)?", version)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = {attr = "hyperdual._version.__version__"}' in pyproject


def test_changelog_names_the_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "Keep a Changelog" in text and "## [Unreleased]" in text
    assert f"## [{hyperdual.__version__}]" in text or "## [Unreleased]" in text


def test_license_and_markers():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the exactdiff authors" in text
    assert (ROOT / "hyperdual" / "py.typed").exists() and (ROOT / "reverse" / "py.typed").exists()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "MIT"' in pyproject
    assert '"Typing :: Typed"' in pyproject


def test_no_made_up_project_urls():
    # there is no public repository yet: no URL may point at an address nobody
    # here owns (the placeholders github.com/exactdiff/... did); docs are built locally
    for name in ("pyproject.toml", "CHANGELOG.md", "README.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "https://github.com/exactdiff" not in text, name
    assert "tox -e docs" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_version_in_a_fresh_interpreter():
    code = "import hyperdual, reverse; print(hyperdual.__version__, reverse.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.split()
    assert out == [hyperdual.__version__] * 2
