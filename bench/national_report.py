"""The Markdown report of `bench/national.py`: the availability ratio against
blackbox_exporter per run (both event loops, blackbox plain and doing the same work), the
per-kind phases, the deployment with Prometheus scraping it, and each target met or not."""

from __future__ import annotations

import argparse
from typing import Any

PLAIN_RATIO_TARGET = 1.0  # x blackbox_exporter http_2xx
SAME_WORK_RATIO_TARGET = 0.7  # x blackbox_exporter with the phrases as body regexes
RSS_TARGET_MB = 400.0
LATENESS_P99_TARGET = 1.0
CORE_TARGET = 1.0  # cores, i.e. 3,600 CPU s per hour
EXPECTED_FAILURES = 0.005  # the portal's sites that never answer

MONITOR_PHASES = {
    "availability": "zombie-probes availability, asyncio",
    "availability-uvloop": "zombie-probes availability, uvloop",
    "availability-plain": "zombie-probes availability without phrases, asyncio",
}


def _us(cpu: float, n: int) -> float:
    return cpu / n * 1e6 if n else float("nan")


def _outcomes(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(d.items()))


def _met(value: float, target: float) -> str:
    return "met" if value <= target else f"NOT met ({value / target:.2f}x the target)"


def ratio_table(run: dict[str, Any]) -> list[str]:
    lines = [
        "| phase | checks | wall s | CPU s | µs CPU per check | × blackbox http_2xx "
        "| × blackbox same work | peak RSS MB | outcomes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    bb, bbp = run.get("blackbox"), run.get("blackbox-phrases")
    plain = _us(bb["cpu"], bb["probes"]) if bb else None
    same = _us(bbp["cpu"], bbp["probes"]) if bbp else None

    def ratios(us: float) -> str:
        a = f"{us / plain:.2f}x" if plain else "-"
        b = f"{us / same:.2f}x" if same else "-"
        return f"{a} | {b}"

    labels = (("blackbox", "blackbox_exporter http_2xx"),
              ("blackbox-phrases", "blackbox_exporter + phrases as body regexes"))  # fmt: skip
    for name, label in labels:
        x = run.get(name)
        if x:
            us = _us(x["cpu"], x["probes"])
            lines.append(
                f"| {label} | {x['probes']:,} | {x['round_seconds']:.0f} | {x['cpu']:.1f} "
                f"| {us:,.0f} | {ratios(us)} | {x['peak_rss_mb']:.0f} "
                f"| {_outcomes(x['outcomes'])} |"
            )
    for name, label in MONITOR_PHASES.items():
        x = run.get(name)
        if x:
            us = _us(x["cpu"], x["checks"])
            lines.append(
                f"| {label} | {x['checks']:,} | {x['wall']:.0f} | {x['cpu']:.1f} | {us:,.0f} "
                f"| {ratios(us)} | {x['peak_rss_mb']:.0f} | {_outcomes(x['outcomes'])} |"
            )
    lines.append("")
    lines += overload_notes(run)
    for name in ("availability", "availability-uvloop"):
        x = run.get(name)
        if not x:
            continue
        us = _us(x["cpu"], x["checks"])
        loop = "asyncio" if name == "availability" else "uvloop"
        parts = []
        if plain:
            parts.append(f"{us / plain:.2f}x plain (target ≤ {PLAIN_RATIO_TARGET}x: "
                         f"{_met(us / plain, PLAIN_RATIO_TARGET)})")  # fmt: skip
        if same:
            parts.append(f"{us / same:.2f}x same work (target ≤ {SAME_WORK_RATIO_TARGET}x: "
                         f"{_met(us / same, SAME_WORK_RATIO_TARGET)})")  # fmt: skip
        lines.append(f"- {loop}: " + "; ".join(parts))
    return lines


def overload_notes(run: dict[str, Any]) -> list[str]:
    """Phases whose failures go beyond the portal's never-answering sites: the machine
    did not keep up, so their CPU per check is not the tool's own cost."""
    notes = []
    for name, x in run.items():
        if not isinstance(x, dict) or "outcomes" not in x:
            continue
        n = x.get("probes", x.get("checks", 0))
        bad = sum(v for k, v in x["outcomes"].items() if not k.endswith("ok"))
        if n and bad / n > EXPECTED_FAILURES * 2:
            errors = "; ".join(f"{k} ({v:,})" for k, v in list(x.get("errors", {}).items())[:3])
            notes.append(f"- **{name} did not keep up**: {bad:,} of {n:,} failed (the portal "
                         f"accounts for {EXPECTED_FAILURES:.1%}), its figure is not the tool's "
                         f"cost alone" + (f"; most: {errors}" if errors else ""))  # fmt: skip
    return notes


def kind_lines(r: dict[str, Any], sites: int) -> list[str]:
    lines = []
    for phase in ("freshness", "board"):
        x = r.get(phase)
        if x and x["checks"]:
            per = x["cpu"] / x["checks"]
            lines.append(
                f"- {phase}: {x['checks']:,} checks, {per * 1000:.1f} ms CPU per check, lateness "
                f"p99 {x['lateness_p99']:.3f} s, peak RSS {x['peak_rss_mb']:.0f} MB; a round of "
                f"all {sites:,} sites ≈ {per * sites / 60:.1f} CPU minutes"
            )
    return lines


def deployment_lines(d: dict[str, Any], args: argparse.Namespace) -> list[str]:
    window = d["dispatch_wall"]
    per_hour = d["dispatch_cpu"] / window * 3600
    by_kind = d["completed_once_by_kind"]
    runs: dict[str, int] = {}
    for key, n in d["outcomes"].items():
        kind = key.split("/")[0]
        runs[kind] = runs.get(kind, 0) + n
    sites = args.sites
    p = d.get("prometheus", {})
    setup = d["setup"]
    steady = sites / args.national_interval + 2 * sites / args.slow_interval

    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    lines = [
        f"Configuration: {d['channels']:,} channels, {d['jobs']:,} checks "
        f"({setup['config_bytes'] / 1e6:.1f} MB of YAML, read by `load_config` "
        + ("in this process" if args.start_load == "serve" else "in a child process, pickled over")
        + f" in "
        f"{setup['seconds'] - setup['write_seconds']:.0f} s; {setup['rss_mb']:.0f} MB RSS after); "
        f"availability every {args.national_interval:g} s, freshness (5 columns) and board every "
        f"{args.slow_interval:g} s: {steady:.1f} checks/s at steady state. Loop {d['loop']}, "
        "served by `run_monitor` (as `serve`).",
        "",
        "| window s | checks run | by kind (runs / distinct checks) | CPU s | CPU s per hour "
        "| cores | peak RSS MB while serving | lateness p50 / p99 / max s | outcomes |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {window:.0f} | {d['checks']:,} | "
        + ", ".join(f"{k} {runs.get(k, 0):,} / {by_kind.get(k, 0):,}" for k in sorted(runs))
        + f" | {d['dispatch_cpu']:.1f} | {per_hour:,.0f} | {per_hour / 3600:.2f} "
        f"| {d['serving_peak_rss_mb']:.0f} | {d['lateness_p50']:.3f} / {d['lateness_p99']:.3f} / "
        f"{d['lateness_max']:.3f} | {_outcomes(d['outcomes'])} |",
        "",
        f"Prometheus (scrape every 30 s, timeout 10 s) over its last {p.get('window', 0)} s: "
        f"{num(p.get('scrapes'), '.0f')} scrapes, up min {num(p.get('up_min'), '.0f')}, "
        f"scrape_duration_seconds avg {num(p.get('duration_avg'), '.3f')} max "
        f"{num(p.get('duration_max'), '.3f')}, {num(p.get('samples'), ',.0f')} samples a scrape; "
        f"its own view of the monitor: CPU {num(p.get('monitor_cpu_rate'), '.3f')} s/s, RSS max "
        f"{num(p.get('monitor_rss_max_mb'), '.0f')} MB, lateness p99 from the histogram "
        f"{num(p.get('lateness_p99_histogram'), '.3f')} s; Prometheus peak RSS "
        f"{p.get('peak_rss_mb', 0):.0f} MB, CPU {p.get('cpu', 0):.1f} s.",
        "",
        f"- one core: {per_hour:,.0f} CPU s per hour = {per_hour / 3600:.2f} of a core "
        f"(target ≤ {CORE_TARGET:g}: {_met(per_hour / 3600, CORE_TARGET)})",
        f"- peak RSS while serving {d['serving_peak_rss_mb']:.0f} MB (target ≤ "
        f"{RSS_TARGET_MB:.0f} MB: {_met(d['serving_peak_rss_mb'], RSS_TARGET_MB)}); reading the "
        f"YAML at start peaked at {setup['peak_rss_mb']:.0f} MB and left {setup['rss_mb']:.0f} MB "
        f"resident (the process's peak overall: {d['peak_rss_mb']:.0f} MB)",
        f"- lateness p99 {d['lateness_p99']:.3f} s over {d['lateness_n']:,} starts, scrapes "
        f"included (target ≤ {LATENESS_P99_TARGET:g} s: "
        f"{_met(d['lateness_p99'], LATENESS_P99_TARGET)})",
    ]
    return lines


def report(r: dict[str, Any], args: argparse.Namespace) -> str:
    m = r["machine"]
    lines = [
        f"Command: `{r['command']}`",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}; "
        f"load average at the end {m['loadavg_at_end']}.",
        f"Portal: {args.sites:,} sites ({args.slow:.1%} answering after 4 s, "
        f"{args.timeouts:.1%} never answering), {len(r['pages'])} distinct files, "
        f"{sum(r['pages'].values()) / len(r['pages']) / 1024:.0f} KB on average; "
        f"max_in_flight {args.max_in_flight}; transport "
        f"{args.transport or 'the default'}.",
    ]
    for i, run in enumerate(r["runs"], 1):
        bb = run.get("blackbox") or run.get("blackbox-phrases")
        version = f", {bb['version']}" if bb else ""
        lines += ["", f"Availability run {i} (started {run['started']} UTC, load average "
                  f"after {' '.join(run['loadavg'])}{version}):", ""]  # fmt: skip
        lines += ratio_table(run)
    kinds = kind_lines(r, args.sites)
    if kinds:
        lines += ["", "Per kind:", "", *kinds]
    if r.get("deployment"):
        lines += ["", "Deployment:", "", *deployment_lines(r["deployment"], args)]
    return "\n".join(lines) + "\n"
