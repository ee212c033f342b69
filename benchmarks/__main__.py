"""``python -m benchmarks [--quick] [--only 1,3] [--out FILE]``: the issue-5 tables."""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from .figures import FIGURES, QUICK_ARGS, Ctx
from .peers import available, versions
from .report import header, render, summary
from .timing import Timing, freeze_heap, set_clock, settle_allocator


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="smaller sizes and fewer pairs (< 2 minutes)")
    ap.add_argument("--only", default="", help="comma-separated figure numbers (1-7)")
    ap.add_argument("--out", default=None, help="also write the markdown to this file")
    ap.add_argument("--append", action="store_true",
                    help="append the tables (no header) to --out instead of rewriting it")
    ap.add_argument("--repeats", type=int, default=None, help="pairs per figure")
    ap.add_argument("--no-peers", action="store_true", help="skip optional peers")
    ap.add_argument("--note", default="", help="free text for the header")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with time.process_time (CPU seconds of this process) "
                         "instead of time.perf_counter: for a machine shared with other work")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)

    if args.quick:
        timing = Timing(repeats=args.repeats or 5, min_time=2e-3, budget=1.5)
    else:
        timing = Timing(repeats=args.repeats or 15, min_time=2e-3, budget=15.0)
    peers = [] if args.no_peers else available()

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    if args.cpu_time:
        set_clock(time.process_time)
    settle_allocator()
    freeze_heap()
    ctx = Ctx(timing=timing, quick=args.quick, peers=peers, log=log)
    wanted = [k.strip() for k in args.only.split(",") if k.strip()] or list(FIGURES)
    unknown = [k for k in wanted if k not in FIGURES]
    if unknown:
        ap.error(f"unknown figure(s) {unknown}; choose from {list(FIGURES)}")
    log(f"peers: {', '.join(p.name for p in peers) or 'none'}")
    t0 = time.perf_counter()
    sections = []
    for key in wanted:
        kwargs = QUICK_ARGS.get(key, {}) if args.quick else {}
        sections.append(FIGURES[key](ctx, **kwargs))
    elapsed = time.perf_counter() - t0

    command = "python -m benchmarks " + " ".join(shlex.quote(a) for a in (argv if argv is not None
                                                                        else sys.argv[1:]))
    if args.append and args.out:
        doc = "\n".join([f"<!-- appended by `{command.strip()}` -->\n", render(sections)])
        print(doc)
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write("\n" + doc)
        return 0
    doc = "\n".join([
        header(command.strip(), versions(), args.note,
               clock="time.process_time (CPU seconds)" if args.cpu_time else "time.perf_counter"),
        f"- wall time of the run: {elapsed / 60:.1f} min\n",
        summary(sections),
        render(sections),
    ])
    print(doc)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(doc)
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
