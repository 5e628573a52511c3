"""The Markdown report of `bench/national.py`: figures per phase, the side-by-side ratio
with blackbox_exporter, and each target met or not (by how much)."""

from __future__ import annotations

import argparse
from typing import Any

CPU_RATIO_TARGET = 1.5
RSS_TARGET_MB = 400.0
LATENESS_P99_TARGET = 1.0


def _per_1000(cpu: float, n: int) -> float:
    return cpu / n * 1000 if n else float("nan")


def _outcomes(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(d.items()))


def report(r: dict[str, Any], args: argparse.Namespace) -> str:
    m = r["machine"]
    lines = [
        f"Command: `{r['command']}`",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}; "
        f"load average at the end {m['loadavg_at_end']}.",
        f"Portal: {args.sites:,} sites ({args.slow:.1%} answering after 4 s, "
        f"{args.timeouts:.1%} never answering), {len(r['pages'])} distinct files, "
        f"{sum(r['pages'].values()) / len(r['pages']) / 1024:.0f} KB on average; generated in "
        f"{r['generate_seconds']:.1f} s. Monitor event loop: "
        f"{'asyncio' if args.no_uvloop else 'uvloop'}; max_in_flight {args.max_in_flight}.",
        "",
        "| phase | checks | wall s | checks/s | CPU s | CPU s / 1,000 checks | peak RSS MB "
        "| lateness p50 / p99 s | full round s | outcomes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    bb = r.get("blackbox")
    if bb:
        lines.append(
            f"| blackbox_exporter availability | {bb['probes']:,} | {bb['round_seconds']:.0f} "
            f"| {bb['probes'] / bb['round_seconds']:.0f} | {bb['cpu']:.1f} "
            f"| {_per_1000(bb['cpu'], bb['probes']):.3f} | {bb['peak_rss_mb']:.0f} | - "
            f"| {bb['round_seconds']:.0f} | {_outcomes(bb['outcomes'])} |"
        )
    for phase in ("availability", "availability-plain", "freshness", "board", "national"):
        x = r.get(phase)
        if not x:
            continue
        rnd = f"{x['round_seconds']:.0f}" if x["round_seconds"] is not None else (
            f"not in the run ({x['completed_once']:,} of {x['jobs']:,} checks ran)"
        )  # fmt: skip
        lines.append(
            f"| zombie-probes {phase} ({x['channels']:,} channels, {x['jobs']:,} checks) "
            f"| {x['checks']:,} | {x['wall']:.0f} | {x['checks'] / x['wall']:.0f} "
            f"| {x['cpu']:.1f} | {_per_1000(x['cpu'], x['checks']):.3f} "
            f"| {x['peak_rss_mb']:.0f} | {x['lateness_p50']:.3f} / {x['lateness_p99']:.3f} "
            f"| {rnd} | {_outcomes(x['outcomes'])} |"
        )
    lines += ["", "Targets:", ""]
    av = r.get("availability")
    if bb and av:
        ours = _per_1000(av["cpu"], av["checks"])
        theirs = _per_1000(bb["cpu"], bb["probes"])
        ratio = ours / theirs
        lines.append(
            f"- CPU per availability check: {ours * 1000:.0f} µs vs blackbox_exporter "
            f"{theirs * 1000:.0f} µs per probe = **{ratio:.2f}x** (target ≤ {CPU_RATIO_TARGET}x: "
            + ("met" if ratio <= CPU_RATIO_TARGET else
               f"NOT met, {ratio / CPU_RATIO_TARGET:.2f}x over") + ")"
        )  # fmt: skip
    plain = r.get("availability-plain")
    if bb and plain:
        ours = _per_1000(plain["cpu"], plain["checks"])
        ratio = ours / _per_1000(bb["cpu"], bb["probes"])
        lines.append(
            f"- The same without soft-error phrases (blackbox_exporter's work): "
            f"{ours * 1000:.0f} µs = **{ratio:.2f}x**"
        )
    nat = r.get("national")
    if nat:
        rss = nat["peak_rss_mb"]
        lines.append(
            f"- Peak RSS with all {args.sites:,} sites configured: {rss:.0f} MB (target ≤ "
            f"{RSS_TARGET_MB:.0f} MB: "
            + ("met" if rss <= RSS_TARGET_MB else f"NOT met, {rss - RSS_TARGET_MB:.0f} MB over")
            + f"; {nat['setup']['rss_mb']:.0f} MB after loading the config)"
        )
        p99 = nat["lateness_p99"]
        lines.append(
            f"- Scheduler lateness p99 in the national phase: {p99:.3f} s (target ≤ "
            f"{LATENESS_P99_TARGET:g} s: "
            + ("met" if p99 <= LATENESS_P99_TARGET else f"NOT met, {p99:.1f} s")
            + ")"
        )
    for phase in ("freshness", "board"):
        x = r.get(phase)
        if x and x["checks"]:
            per = x["cpu"] / x["checks"]
            lines.append(
                f"- A full {phase} round of all {args.sites:,} sites needs at least "
                f"{per * args.sites / 60:.0f} CPU minutes on one core ({per * 1000:.0f} ms "
                "per check)"
            )
    return "\n".join(lines) + "\n"
