"""Rows, markdown tables and the machine header."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field

from .timing import Ratio

__all__ = ["Row", "Section", "header", "render", "fmt"]


def fmt(v: float, unit: str = "x") -> str:
    if v != v:  # NaN
        return "nan"
    if unit == "x":
        if v >= 100:
            return f"{v:,.0f}x"
        if v >= 10:
            return f"{v:.1f}x"
        return f"{v:.2f}x"
    if unit == "B/node":
        return f"{v:,.0f} B/node"
    if unit == "us":
        return f"{v:.2f} µs"
    return f"{v:.3g} {unit}"


@dataclass
class Row:
    """One figure: our value, the goal (an upper bound) and the peers' values."""

    figure: str
    ours: Ratio | float | None
    goal: float | None = None
    goal_text: str = "—"
    unit: str = "x"
    peers: dict[str, Ratio | float | str] = field(default_factory=dict)
    note: str = ""
    strict: bool = False  # goal is "< goal" rather than "<= goal"

    @property
    def value(self) -> float:
        if isinstance(self.ours, Ratio):
            return self.ours.median
        return float("nan") if self.ours is None else float(self.ours)

    @property
    def passed(self) -> bool | None:
        if self.goal is None or self.ours is None:
            return None
        return self.value < self.goal if self.strict else self.value <= self.goal

    def mark(self) -> str:
        p = self.passed
        return "" if p is None else ("pass" if p else "**FAIL**")

    def ours_text(self) -> str:
        if self.ours is None:
            return "n/a"
        if isinstance(self.ours, Ratio):
            r = self.ours
            return f"{fmt(r.median, self.unit)} [{fmt(r.q1, self.unit)}–{fmt(r.q3, self.unit)}]"
        return fmt(float(self.ours), self.unit)

    def peers_text(self) -> str:
        parts = []
        for name, v in self.peers.items():
            if isinstance(v, Ratio):
                parts.append(f"{name} {fmt(v.median, self.unit)}")
            elif isinstance(v, float):
                parts.append(f"{name} {fmt(v, self.unit)}")
            else:
                parts.append(f"{name} {v}")
        return "; ".join(parts) if parts else "—"


@dataclass
class Section:
    title: str
    rows: list[Row]
    text: str = ""


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


def render(sections: list[Section]) -> str:
    out = []
    for s in sections:
        out.append(f"### {s.title}\n")
        if s.text:
            out.append(s.text.strip() + "\n")
        out.append("| figure | ours: median [IQR] | goal | pass "
                   "| peers and references (median) | note |")
        out.append("|---|---|---|---|---|---|")
        for r in s.rows:
            out.append("| " + " | ".join(_cell(c) for c in (
                r.figure, r.ours_text(), r.goal_text, r.mark(), r.peers_text(), r.note)) + " |")
        out.append("")
    return "\n".join(out)


def summary(sections: list[Section]) -> str:
    rows = [r for s in sections for r in s.rows if r.passed is not None]
    good = [r for r in rows if r.passed]
    bad = [r for r in rows if not r.passed]
    lines = [f"**Goals: {len(good)} pass, {len(bad)} fail.**"]
    if bad:
        lines.append("")
        lines.append("Missed:")
        for r in bad:
            lines.append(f"- {r.figure}: {fmt(r.value, r.unit)} (goal {r.goal_text})")
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _v(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header(command: str, peer_versions: dict[str, str | None], note: str = "",
           clock: str = "time.perf_counter") -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    peers = ", ".join(f"{k} {v}" if v else f"{k} (not installed)"
                      for k, v in peer_versions.items())
    lines = [
        "# exactdiff benchmark results",
        "",
        f"- date: {now}",
        f"- command: `{command}`",
        f"- machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}",
        f"- python {platform.python_version()} ({sys.implementation.name}), "
        f"numpy {_v('numpy')}, scipy {_v('scipy')}, exactdiff {_v('exactdiff')}",
        f"- peers: {peers}",
        "- method: paired, interleaved timing (A B, B A, ... repeat by repeat; each batch "
        f"≥ 2 ms of inner loops, gc off inside a batch, {clock}); every figure is "
        "the median of the per-pair ratios, IQR in brackets. Lower is better; a goal is an "
        "upper bound from issue 5.",
    ]
    try:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        lines.append(f"- load average at the end (1, 5, 15 min): {load} "
                     "(other work on the machine makes the IQRs wide)")
    except OSError:
        pass
    if note:
        lines.append(f"- note: {note}")
    return "\n".join(lines) + "\n"
