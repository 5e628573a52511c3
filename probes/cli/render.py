"""How verdicts look on a terminal and in JSON: the same verdicts the exporter shows.

The first line of each channel is the whole story in one line (state, channel, reasons),
so `zombie-probes check … | head -1` and monitoring plugins read it; evidence follows,
indented.
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


def headline(verdict: Verdict) -> str:
    word = LABEL[verdict.state][0]
    return f"{word} {verdict.channel} ({verdict.kind}) {verdict.state.value}: {verdict.summary}"


def render_verdict(console: Console, verdict: Verdict, results: list[CheckResult]) -> None:
    word, colour = LABEL[verdict.state]
    rest = headline(verdict)[len(word) :]
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
