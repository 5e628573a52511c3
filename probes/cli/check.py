"""`zombie-probes check`: one-off checks of a URL or of configured channels.

Exit status follows the monitoring-plugin convention: 0 OK, 1 WARNING (degraded),
2 CRITICAL (zombie), 3 UNKNOWN (the check could not run or could not tell). With several
channels the worst state wins (zombie > degraded > unknown > ok).

One-off runs keep their state in memory unless `--state FILE` is given, so they never
write history into a running monitor's state file by accident.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from probes.cli.options import typed_options
from probes.cli.render import render_json, render_verdict
from probes.clock import SystemClock
from probes.config import ChannelConfig, Config, ConfigError, load_config
from probes.config.base import CheckSpec, HttpCheckSpec
from probes.config.model import ChecksConfig
from probes.config.tls import TlsSpec
from probes.model import CheckResult, State, Verdict
from probes.runtime.runner import open_runtime, run_channel

# The channel kind a bare URL is taken for, per check kind.
URL_CHANNEL_KIND = {
    "availability": "website",
    "freshness": "website",
    "links": "website",
    "service": "service",
    "board": "board",
}
EXIT_UNKNOWN = 3


def check_command(
    url: str | None = typer.Argument(None, help="URL to check once (or use -c FILE)"),
    as_kind: str = typer.Option(
        "availability", "--as", help=f"check kind for URL: {', '.join(URL_CHANNEL_KIND)}"
    ),
    config_file: Path | None = typer.Option(None, "-c", "--config", help="config file"),
    channel: list[str] = typer.Option([], "--channel", help="only this channel (repeatable)"),
    max_age: str | None = typer.Option(None, "--max-age", help="freshness: e.g. 14d"),
    timeout: str | None = typer.Option(None, "--timeout", help="overall deadline, e.g. 15s"),
    option: list[str] = typer.Option(
        [], "-o", "--option", help="spec field KEY=VALUE (strings as typed, else YAML; a.b nests)"
    ),
    state: Path | None = typer.Option(None, "--state", help="SQLite state file to use"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of text"),
    insecure: bool = typer.Option(
        False, "--insecure", help="do not verify TLS certificates (expiry is still reported)"
    ),
) -> None:
    """Run checks once and print the verdict, the reasons and the evidence."""
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    try:
        if config_file is not None:
            config = load_config(config_file)
            channels = [c for c in config.channels if not channel or c.name in channel]
            missing = set(channel) - {c.name for c in channels}
            if missing:
                raise ValueError(f"no channel named {', '.join(sorted(missing))} in {config_file}")
        elif url:
            config = one_off_config(url, as_kind, _options(max_age, timeout, option))
            channels = config.channels
        else:
            raise ValueError("give a URL (with --as KIND) or -c FILE")
        if insecure:
            config = without_verification(config)
            channels = [c for c in config.channels if c.name in {x.name for x in channels}]
    except (ConfigError, ValueError, ValidationError) as exc:
        typer.echo(f"UNKNOWN: {_one_line(exc)}", err=True)
        raise typer.Exit(EXIT_UNKNOWN) from exc
    outcomes = asyncio.run(
        _run(config, channels, state, progress=not as_json and len(channels) > 3)
    )
    worst = max((v.state for v, _ in outcomes), key=lambda s: s.rank, default=State.UNKNOWN)
    if as_json:
        doc: Any = [render_json(v, rs) for v, rs in outcomes]
        typer.echo(json.dumps(doc[0] if url and len(doc) == 1 else doc, ensure_ascii=False,
                              indent=2))  # fmt: skip
    else:
        for verdict, results in outcomes:
            render_verdict(console, verdict, results)
    raise typer.Exit(worst.exit_code)


def one_off_config(url: str, kind: str, options: dict[str, Any]) -> Config:
    """A config of one channel named `check` watching `url` with one check of `kind`."""
    if kind not in URL_CHANNEL_KIND:
        raise ValueError(f"--as {kind!r}: one of {', '.join(URL_CHANNEL_KIND)}")
    spec_cls = spec_class(kind)
    spec = spec_cls.for_url(url, typed_options(spec_cls, options))
    channel = ChannelConfig.model_validate(
        {
            "name": "check",
            "kind": URL_CHANNEL_KIND[kind],
            "owner": "-",
            "url": url,
            "checks": {kind: spec},
        }
    )
    return Config.model_validate({"channels": [channel]}).with_defaults()


def without_verification(config: Config) -> Config:
    """`check --insecure`: every HTTP check's certificate left unverified (a CA file
    dropped, a server name kept)."""
    channels = []
    for channel in config.channels:
        updates: dict[str, CheckSpec] = {}
        for name, spec in channel.checks.items():
            if isinstance(spec, HttpCheckSpec):
                server_name = spec.tls.server_name if spec.tls else None
                tls = TlsSpec(insecure=True, server_name=server_name)
                updates[name] = spec.model_copy(update={"tls": tls})
        checks = channel.checks.model_copy(update=updates)
        channels.append(channel.model_copy(update={"checks": checks}))
    return config.model_copy(update={"channels": channels})


def spec_class(kind: str) -> type[CheckSpec]:
    """The spec model of a check kind, from its `Spec | None` field in `ChecksConfig`."""
    annotation = ChecksConfig.model_fields[kind].annotation
    for arg in getattr(annotation, "__args__", (annotation,)):
        if isinstance(arg, type) and issubclass(arg, CheckSpec):
            return arg
    raise AssertionError(f"ChecksConfig.{kind} is not a CheckSpec")


def _options(max_age: str | None, timeout: str | None, pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if max_age is not None:
        out["max_age"] = max_age
    if timeout is not None:
        out["timeout"] = timeout
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"-o {pair!r}: expected KEY=VALUE")
        target = out
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = raw  # typed by its field in one_off_config
    return out


async def _run(
    config: Config, channels: list[ChannelConfig], state: Path | None, *, progress: bool
) -> list[tuple[Verdict, list[CheckResult]]]:
    settings = config.global_
    async with open_runtime(
        settings, clock=SystemClock(), state_path=state if state is not None else ":memory:"
    ) as rt:
        limit = asyncio.Semaphore(settings.max_in_flight)

        async def one(channel: ChannelConfig) -> tuple[Verdict, list[CheckResult]]:
            async with limit:
                return await run_channel(rt, channel)

        if not progress:
            return list(await asyncio.gather(*(one(c) for c in channels)))
        with Progress(console=Console(file=sys.stderr), transient=True) as bar:
            task = bar.add_task("checking", total=len(channels))

            async def tracked(channel: ChannelConfig) -> tuple[Verdict, list[CheckResult]]:
                out = await one(channel)
                bar.advance(task)
                return out

            return list(await asyncio.gather(*(tracked(c) for c in channels)))


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ConfigError):
        return "invalid config:\n" + str(exc)
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)
