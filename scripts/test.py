"""Run the whole test matrix with tox, telling the user what happens.

``python3 -m pip install tox && python3 scripts/test.py`` is the README's test
command and what ``.ci/run`` calls.  Compared with a bare ``tox -p auto`` it

* finds interpreters itself: ``PATH`` (pyenv shims left out: they only work for
  the selected version) plus pyenv's ``~/.pyenv/versions/*/bin`` when present;
* prints its plan first: which environments run, which are skipped and why,
  and how long the run should take (the durations of the last run on this
  machine, else a default);
* shows progress: tox first creates every environment in one sequential call
  (so that two processes never build the shared package at once), then the
  environments run two at a time, each logged to ``.tox/logs/<env>.log``; a
  progress line every 20 s names each running environment with pytest's
  percentage, and each finished one prints the end of its output (pytest's
  ``N passed`` line) or, on failure, its whole log;
* fails only for real failures: a missing interpreter is reported as skipped,
  and at least one test environment (``py3XX`` or ``floor``) must run.

Extra arguments are passed to pytest (``python3 scripts/test.py -- -x``);
``-e env1,env2`` picks environments from tox's env_list.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / ".tox" / "durations.json"
LOGS = ROOT / ".tox" / "logs"
# seconds per environment (setup + run) on a 2-core machine when no earlier
# run has been recorded: test envs ~2 min each (numpy/scipy/pytest install,
# then the suite), the small ones less
DEFAULT_SECONDS = {"lint": 5, "typecheck": 15, "docs": 60, "build": 30, "examples": 90}
DEFAULT_TEST_SECONDS = 420  # one Python's whole suite (~13,100 tests) on an idle core
DEFAULT_SETUP_SECONDS = 45  # per environment, creating it (downloads cached)
TEST_ENVS = re.compile(r"^(py3\d+|floor|noavx512)$")
POLL = 20.0


def _search_path() -> list[str]:
    """Directories searched for interpreters: this Python's, PATH, pyenv's."""
    dirs = [str(Path(sys.executable).parent)]
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and "shims" not in Path(d).parts:
            dirs.append(d)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if root.is_dir():
        for v in sorted(root.iterdir(), reverse=True):
            if (v / "bin").is_dir():
                dirs.append(str(v / "bin"))
    seen: list[str] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def _read_tox() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(ROOT / "tox.ini")
    return cp


def _env_list(cp: configparser.ConfigParser) -> list[str]:
    raw = cp.get("tox", "env_list", fallback="")
    return [e.strip() for e in re.split(r"[,\s]+", raw) if e.strip()]


def _candidates(env: str, cp: configparser.ConfigParser) -> list[str] | None:
    """Interpreter names an environment may use (None: the one running tox)."""
    m = re.fullmatch(r"py(\d)(\d+)", env)
    if m:
        return [f"python{m.group(1)}.{m.group(2)}"]
    section = f"testenv:{env}"
    if cp.has_option(section, "base_python"):
        names = cp.get(section, "base_python")
        return [n.strip() for n in names.split(",") if n.strip()]
    return None


def plan(envs: list[str], cp: configparser.ConfigParser, path: str):
    """Split ``envs`` into (runs, skipped) with an interpreter or a reason."""
    runs, skipped = [], []
    for env in envs:
        names = _candidates(env, cp)
        if names is None:
            runs.append((env, sys.executable))
            continue
        found = [shutil.which(n, path=path) for n in names]
        found = [f for f in found if f]
        if found:
            runs.append((env, found[0]))
        else:
            skipped.append((env, f"no {' or '.join(names)} on PATH or in ~/.pyenv/versions"))
    return runs, skipped


def _fmt(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _known() -> dict:
    try:
        return json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    except ValueError:
        return {}


def _expected(envs: list[str], workers: int) -> float:
    """Setup (sequential) plus the runs shared among the workers."""
    known = _known()
    setup = known.get("setup", {})
    runs = known.get("run", {})
    t_setup = sum(setup.get(e, DEFAULT_SETUP_SECONDS) for e in envs)
    t_run = [runs.get(e, DEFAULT_SECONDS.get(e, DEFAULT_TEST_SECONDS)) for e in envs]
    # the longest run bounds the parallel part from below
    return t_setup + max(sum(t_run) / max(1, min(workers, len(envs))), max(t_run, default=0))


def run_order(envs: list[str], known_runs: dict[str, float]) -> list[str]:
    """The order to start ``envs`` in: longest last run first, when every one has a
    recorded time (two workers finish soonest when the long runs start first and
    the short ones fill in beside them); else tox.ini's order, which lists the
    longest environments (py312, noavx512) first.

    >>> run_order(["a", "b", "c"], {"a": 5.0, "b": 60.0, "c": 30.0})
    ['b', 'c', 'a']
    >>> run_order(["a", "b", "c"], {"a": 5.0, "b": 60.0})
    ['a', 'b', 'c']
    """
    if not all(e in known_runs for e in envs):
        return list(envs)
    return sorted(envs, key=lambda e: -known_runs[e])


def _progress(log: Path) -> str:
    """Where an environment's run is: pytest's last percentage, 'collecting' before
    the first one, 'finishing' once pytest has printed its summary (the warnings
    summary can be long, so the whole log is searched, not its end)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "starting"
    if re.search(r"^=*\s*\d+ (passed|failed)|^\d+ (passed|failed)", text, re.M):
        return "finishing"
    pct = re.findall(r"\[\s*(\d+)%\]", text)
    return f"{pct[-1]}%" if pct else "collecting"


def _tail(text: str, n: int) -> str:
    lines = [ln for ln in text.rstrip().splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def _pytest_counts(names: list[str]) -> dict[str, int]:
    """Sum pytest's closing line ('12 passed, 1 failed, 3 skipped in 4.5s')."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for name in names:
        try:
            text = (LOGS / f"{name}.log").read_text(errors="replace")
        except OSError:
            continue
        lines = [ln for ln in text.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
        if not lines:
            continue
        for n, what in re.findall(r"(\d+) (passed|failed|skipped|errors?)", lines[-1]):
            key = "failed" if what.startswith("error") else what
            counts[key] += int(n)
    return counts


def _stop(proc: subprocess.Popen) -> None:
    """End a tox run and everything it started (its process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _run_all(pending, running, results, jobs, tox, extra, env, start) -> None:
    """Run the environments ``jobs`` at a time, printing progress and each result."""
    last_note = time.monotonic()
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            log = LOGS / f"{name}.log"
            fh = open(log, "w")  # noqa: SIM115  (closed when the process ends)
            cmd = tox + ["run", "-e", name, "--skip-pkg-install"] + extra
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            proc._log_fh = fh  # type: ignore[attr-defined]
            running[name] = (proc, time.monotonic(), log)
            print(f"[{_fmt(time.monotonic() - start)}] start {name}", flush=True)
        time.sleep(0.5)
        for name, (proc, t0, log) in list(running.items()):
            rc = proc.poll()
            if rc is None:
                continue
            proc._log_fh.close()  # type: ignore[attr-defined]
            dt = time.monotonic() - t0
            results[name] = (rc, dt)
            del running[name]
            text = log.read_text(errors="replace")
            status = "OK" if rc == 0 else f"FAILED (exit {rc})"
            print(f"[{_fmt(time.monotonic() - start)}] {name}: {status} in {_fmt(dt)}")
            if rc == 0:
                print(_tail(text, 3))
            else:
                print(text)
            sys.stdout.flush()
        if running and time.monotonic() - last_note >= POLL:
            last_note = time.monotonic()
            states = ", ".join(f"{n} {_progress(lg)}" for n, (_, _, lg) in running.items())
            print(f"[{_fmt(last_note - start)}] running: {states}; "
                  f"{len(results)} done, {len(pending)} waiting", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-e", dest="envs", help="comma-separated environments (default: env_list)")
    ap.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 1,
                    help="environments run at once (default: the number of cores)")
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = ap.parse_args(argv)

    cp = _read_tox()
    envs = args.envs.split(",") if args.envs else _env_list(cp)
    path = os.pathsep.join(_search_path())
    runs, skipped = plan(envs, cp, path)
    names = [e for e, _ in runs]
    jobs = max(1, args.jobs)

    print(f"exactdiff tests: tox {len(runs)} environment(s), {jobs} at a time", flush=True)
    for env, exe in runs:
        print(f"  run   {env:10s} {exe}")
    for env, why in skipped:
        print(f"  skip  {env:10s} {why}")
    if not names or (not args.envs and not any(TEST_ENVS.match(e) for e in names)):
        print("error: no test environment can run (no Python 3.10+ found)", flush=True)
        return 1
    print(f"expected duration: about {_fmt(_expected(names, jobs))} "
          "(first run on a fresh machine: add the package downloads)", flush=True)

    env = dict(os.environ, PATH=path)
    env.pop("TOX_ENV", None)
    tox = [sys.executable, "-m", "tox"]
    start = time.monotonic()

    # SIGTERM (a CI timeout, kill) ends this script through the finally clauses
    # below, which stop the tox runs it started, instead of orphaning them
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    print(f"\n[{_fmt(0)}] creating environments (tox run --notest, sequential)", flush=True)
    setup = subprocess.run(tox + ["run", "--notest", "-e", ",".join(names)],
                           cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    if setup.returncode:
        print("error: creating the environments failed (output above)", flush=True)
        return setup.returncode
    t_setup = time.monotonic() - start
    print(f"[{_fmt(t_setup)}] environments ready", flush=True)

    LOGS.mkdir(parents=True, exist_ok=True)
    pending = run_order(names, _known().get("run", {}))
    running: dict[str, tuple[subprocess.Popen, float, Path]] = {}
    results: dict[str, tuple[int, float]] = {}
    extra = ["--"] + args.pytest_args if args.pytest_args else []

    # stopped (Ctrl-C, or SIGTERM from a CI timeout): end the environments still
    # running (each tox run is its own process group, its pytest included)
    try:
        _run_all(pending, running, results, jobs, tox, extra, env, start)
    finally:
        if running:
            print(f"\nstopped: ending {', '.join(running)}", flush=True)
        for proc, _, _ in running.values():
            _stop(proc)

    total = time.monotonic() - start
    # this run's times are the next run's estimate (not after a partial pytest run)
    if not args.pytest_args:
        known = _known()
        known.setdefault("setup", {}).update(
            {n: round(t_setup / len(names), 1) for n in names})
        known.setdefault("run", {}).update({n: round(results[n][1], 1) for n in names})
        DURATIONS.write_text(json.dumps(known, indent=1))

    failed = [n for n, (rc, _) in results.items() if rc]
    counts = _pytest_counts(names)
    print(f"\nsummary after {_fmt(total)}:")
    for n in names:
        rc, dt = results[n]
        print(f"  {n:10s} {'ok' if rc == 0 else 'FAILED'} ({_fmt(dt)})")
    for env, why in skipped:
        print(f"  {env:10s} skipped: {why}")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    else:
        print(f"all {len(names)} environment(s) passed")
    # pytest's counts summed over the environments, as the last line
    if any(counts.values()):
        print(f"total: {counts['passed']} passed, {counts['failed']} failed, "
              f"{counts['skipped']} skipped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
