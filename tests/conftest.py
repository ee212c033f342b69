"""Shared test configuration.

Under CI (the ``CI`` environment variable set, as ``.ci/run`` and tox pass it on)
Hypothesis runs derandomized: the same examples every run, so a landing is
reproducible. Locally it explores new random examples each run.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
