"""The README's supported-function table is generated from the rule tables."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("update_readme",
                                                  ROOT / "scripts" / "update_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_supported_table_is_current():
    import numpy as np
    import pytest

    if int(np.__version__.split(".")[0]) < 2:
        # the table is generated on numpy 2 (numpy.linalg.vecdot ... exist only there)
        pytest.skip("the README table is generated with numpy >= 2")
    mod = _script()
    text = (ROOT / "README.md").read_text()
    assert mod.START in text and mod.END in text
    assert mod.render(text) == text, "run: python scripts/update_readme.py"


def test_readme_first_screen_has_the_two_commands():
    first = "\n".join((ROOT / "README.md").read_text().splitlines()[:20])
    assert "python3 -m pip install . && python3 examples/quickstart.py" in first
    assert "python3 -m pip install tox && python3 scripts/test.py" in first
    assert "python3 -m pip install tox && python3 scripts/test.py" in (
        ROOT / ".ci" / "run").read_text()
    assert "import reverse.functions as F" in first
