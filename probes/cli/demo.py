"""`zombie-probes demo`: the simulated government portal and the monitor watching it.

The portal runs in the same process on localhost; the monitor runs on the built-in demo
config (`probes/demo/demo.yaml`) with a throwaway SQLite state, serves /metrics like
`serve`, and after the first round prints every channel that is not ok and why,
next to the portal's ground truth. Hotline channels need an MQTT broker: with none
reachable they are left out and the command says how to start one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from importlib.resources import as_file, files
from pathlib import Path

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from probes.cli.servecmd import fail
from probes.config import Config, load_config
from probes.demo.truth import Truth, codes
from probes.model import State
from probes.runtime.monitor import Monitor
from probes.runtime.serve import StartupError, bind, run_monitor
from probes.state.errors import StateError

FIRST_ROUND_LIMIT = 120.0
ROBOT_ATTEMPTS = 10
ROBOT_WAIT = 10.0
INGEST_SETTLE = 0.5


def demo_command(
    listen: str = typer.Option("127.0.0.1:9705", "--listen", help="monitor HOST:PORT"),
    portal_port: int = typer.Option(9780, "--portal-port", help="simulated portal port (0: any)"),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="MQTT broker HOST:PORT for the hotline call robot"
    ),
    once: bool = typer.Option(
        False,
        "--once",
        help="exit after the first round: 0 if every verdict matches the "
        "portal's ground truth, 1 if not",
    ),
) -> None:
    """Start the simulated government portal and monitor it."""
    # Both ports are tried first, so a second demo (or anything else on them) is one line.
    for address, hint in ((f"127.0.0.1:{portal_port}", "--portal-port 0 picks a free port"),
                          (listen, "--listen HOST:PORT picks another")):  # fmt: skip
        try:
            bind(address).close()
        except StartupError as exc:
            fail(f"{exc} (is another demo running? {hint})")
    try:
        matched = asyncio.run(_demo(listen, portal_port, mqtt, once))
    except (StartupError, StateError) as exc:
        fail(str(exc))
    if once:
        raise typer.Exit(0 if matched else 1)


async def _demo(listen: str, portal_port: int, mqtt: str | None, once: bool) -> bool:
    from probes.demo.portal import ground_truth, run_portal

    console = Console(highlight=False, soft_wrap=True)  # lines whole: the terminal wraps
    truth = ground_truth()
    result = {"matched": False}
    with tempfile.TemporaryDirectory(prefix="zombie-demo-") as tmp:
        async with run_portal(port=portal_port) as portal:
            env = dict(os.environ, DEMO_PORTAL=portal.base_url)
            # Only a broker the user names: a demo that joined whatever listens on 1883 could
            # publish its robot's calls into someone's real deployment.
            broker = mqtt
            if broker:
                env["DEMO_MQTT_HOST"], _, env["DEMO_MQTT_PORT"] = broker.rpartition(":")
            with as_file(files("probes.demo") / "demo.yaml") as path:
                config = load_config(path, environ=env)
            if broker:
                from probes.demo import callrobot

                truth = {**truth, **callrobot.TRUTH}
            else:
                config = _without_hotlines(config)
                console.print(
                    "hotline channels left out: no MQTT broker given. Start one "
                    "(apt-get install mosquitto; mosquitto -p 1883) and pass "
                    "--mqtt 127.0.0.1:1883."
                )
            console.print(f"simulated portal: {portal.base_url}/")

            def ready(monitor: Monitor, address: str) -> None:
                console.print(f"monitor: http://{address}/  metrics: http://{address}/metrics")

            async def first_round(monitor: Monitor) -> None:
                robot, fed_at = (await _feed(console, monitor, broker)) if broker else (None, 0.0)
                try:
                    await _wait_first_round(monitor, fed_at)
                    result["matched"] = _report(console, monitor, truth)
                    if once:
                        monitor.scheduler.stop()
                        return
                    console.print("monitoring; Ctrl-C to stop")
                    if robot is not None:
                        await robot
                finally:
                    if robot is not None:
                        robot.cancel()

            await run_monitor(
                config, None, listen=listen, state_path=str(Path(tmp) / "demo.db"),
                extra=first_round, on_ready=ready, first_run_spread=2.0,
            )  # fmt: skip
    return result["matched"]


async def _wait_first_round(monitor: Monitor, fed_at: float) -> None:
    """Until every check has a result, hotline checks one taken after records arrived."""
    wanted = {
        (c.name, check, c.kind == "hotline")
        for c in monitor.status.channels.values()
        for check, _ in c.enabled_checks()
    }

    def done() -> bool:
        results = monitor.status.results
        return all(
            (name, check) in results and (not fed or results[(name, check)].started >= fed_at)
            for name, check, fed in wanted
        )

    async with asyncio.timeout(FIRST_ROUND_LIMIT):
        # Results land from many check tasks; polling the status is simpler than a signal.
        while not done():  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def _feed(
    console: Console, monitor: Monitor, broker: str
) -> tuple[asyncio.Task[None] | None, float]:
    """Start the call robot and wait until its backlog is stored, so the first hotline
    verdicts judge a full day of calls rather than the first few records.

    The broker keeps QoS 1 records only for a session that has subscribed, and on a first
    run the monitor may subscribe after the robot's backlog went out; records are
    deduplicated by call id, so the robot is simply started again when none arrive."""
    ingested = monitor.ingest.ingested
    for _attempt in range(ROBOT_ATTEMPTS):
        published = asyncio.Event()
        robot = asyncio.create_task(_robot(monitor, broker, published))
        try:
            async with asyncio.timeout(ROBOT_WAIT):
                await published.wait()
                # Stored once the count stops moving (records land in batches).
                last = -1
                while (total := sum(ingested.values())) == 0 or total != last:
                    last = total
                    await asyncio.sleep(INGEST_SETTLE)
        except TimeoutError:
            robot.cancel()
            continue
        return robot, monitor.rt.clock.now()
    console.print(f"the call robot's records did not arrive through {broker}")
    return None, 0.0


def _report(console: Console, monitor: Monitor, truth: dict[str, Truth]) -> bool:
    table = Table(title="first round: verdicts against the portal's ground truth")
    # Names and reason codes are never folded mid-word: one code per line, and the table
    # is printed wider than the terminal rather than cut (the terminal wraps whole lines).
    for column in ("channel", "kind", "state", "reasons", "ground truth"):
        table.add_column(column, no_wrap=True)
    all_match = True
    verdicts = sorted(monitor.status.verdicts.items())
    for name, verdict in verdicts:
        expected = truth.get(name)
        got = codes(verdict)
        match = expected is not None and expected.matches(verdict)
        all_match &= match or expected is None
        if expected is None:
            agrees = "-"
        elif match:
            agrees = "matches"
        else:
            agrees = "\n".join([f"EXPECTED {expected.state.value}", *sorted(expected.reasons)])
        table.add_row(
            name, verdict.kind, verdict.state.value, "\n".join(sorted(got)) or "-", agrees
        )
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    terminal = console.width
    console.width = max(terminal, natural)  # rich would otherwise cut cells with "…"
    console.print(table)
    console.width = terminal
    for state in (State.ZOMBIE, State.DEGRADED, State.UNKNOWN):
        these = [v for _, v in verdicts if v.state is state]
        if these:
            console.print(f"{len(these)} {state.value} channel(s):")
        for verdict in these:
            console.print(f"  {verdict.channel}: {verdict.summary}", markup=False, soft_wrap=True)
    console.print(f"verdicts match the ground truth: {'yes' if all_match else 'NO'}")
    return all_match


def _without_hotlines(config: Config) -> Config:
    channels = [c for c in config.channels if c.kind != "hotline"]
    return config.model_copy(update={"channels": channels, "calls": None})


async def _robot(monitor: Monitor, broker: str, published: asyncio.Event) -> None:
    from probes.demo.callrobot import run_robot

    host, _, port = broker.rpartition(":")
    await run_robot(host, int(port), clock=monitor.rt.clock, backlog_published=published)
