"""Benchmarks of exactdiff against numpy, hand-written derivatives and optional peers.

Run ``python -m benchmarks`` (full, ~15 min), ``python -m benchmarks --quick``
(< 2 min) or ``tox -e bench``; ``--out benchmarks/RESULTS.md`` writes the tables.
"""
