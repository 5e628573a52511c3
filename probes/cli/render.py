"""How verdicts look on a terminal and in JSON: the same verdicts the exporter shows.

The first line of each channel is the whole story in one line (state, channel, reasons),
then ` | ` and Nagios performance data (`'label'=value[unit];warn;crit;min;max`), so
`zombie-probes check … | head -1`, Nagios and Icinga read it; evidence follows, indented.

Performance data carry each check's duration and every plain measurement: seconds with
the unit `s`, bytes with `B`, and a `…_timestamp_seconds` measurement (the newest item, a
certificate's expiry) as its age in days at the verdict's time (`…_age_days`; negative for
a time still ahead), which is what a graph of a plugin's history wants. Extra labels
(a column id, an outcome) are appended to the label with `_`; they are bounded ids, never
free text.

`--json` output is versioned: `schema_version` changes only when a field changes meaning or
goes away (new fields may appear at any time).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from probes.model import CheckResult, State, Verdict

LABEL = {
    State.OK: ("OK", "green"),
    State.DEGRADED: ("WARNING", "yellow"),
    State.ZOMBIE: ("CRITICAL", "red"),
    State.UNKNOWN: ("UNKNOWN", "magenta"),
}


JSON_SCHEMA_VERSION = 1
DAY = 86400.0


def headline(verdict: Verdict, results: list[CheckResult]) -> str:
    """The one-line verdict with its performance data after ` | `."""
    word = LABEL[verdict.state][0]
    text = f"{word} {verdict.channel} ({verdict.kind}) {verdict.state.value}: {verdict.summary}"
    # `|` separates text from performance data: one inside the text would cut it short.
    text = text.replace("|", "/")
    perf = perfdata(verdict.judged_at, results)
    return f"{text} | {perf}" if perf else text


def perfdata(now: float, results: list[CheckResult]) -> str:
    """Nagios performance data of a channel's check results (see the module docstring)."""
    items: list[str] = []
    for result in results:
        items.append(f"{result.check}_duration={result.duration:.3f}s;;;0")
        for m in result.measurements:
            if not isinstance(m.value, int | float):
                continue
            name, value, unit = m.name, float(m.value), ""
            if name.endswith("_timestamp_seconds"):
                name, value = (
                    name.removesuffix("_timestamp_seconds") + "_age_days",
                    (now - value) / DAY,
                )
            elif name.endswith("_seconds"):
                unit = "s"
            elif name.endswith("_bytes"):
                unit = "B"
            label = "_".join((name, *(v for _, v in m.labels)))
            items.append(f"{label}={value:.6g}{unit};;;")
    return " ".join(items)


def render_verdict(console: Console, verdict: Verdict, results: list[CheckResult]) -> None:
    word, colour = LABEL[verdict.state]
    rest = headline(verdict, results)[len(word) :]
    console.print(f"[bold {colour}]{word}[/]{escape(rest)}")
    for result in results:
        status = {True: "ok", False: "failed", None: "could not tell"}[result.success]
        line = f"  {result.check}: {status} in {result.duration:.2f}s"
        if result.error and result.success is not True:
            line += f" ({result.error})"
        console.print(escape(line))
        for item in result.evidence:
            console.print(escape(f"    - {item}"))


def render_json(verdict: Verdict, results: list[CheckResult]) -> dict[str, Any]:
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "channel": verdict.channel,
        "kind": verdict.kind,
        "state": verdict.state.value,
        "exit_code": verdict.state.exit_code,
        "reasons": [
            {"code": r.code, "state": r.state.value, "check": r.check, "detail": r.detail}
            for r in verdict.reasons
        ],
        "checks": [
            {
                "check": r.check,
                "success": r.success,
                "failure": r.failure.value if r.failure else None,
                "error": r.error,
                "duration_seconds": r.duration,
                "started": r.started,
                "evidence": list(r.evidence),
                "measurements": [
                    {"name": "zombie_" + m.name, "labels": dict(m.labels), "value": m.value}
                    for m in r.measurements
                    if isinstance(m.value, int | float)
                ],
            }
            for r in results
        ],
    }
