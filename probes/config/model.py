"""The root of the configuration: `global:` defaults, `channels:`, and call sources.

This module is the single source of defaults, validation messages and the JSON Schema.
It never imports the check kinds; the kinds import their spec models from here.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, HttpUrl, ValidationInfo, field_validator, model_validator

from probes.config.availability import AvailabilitySpec
from probes.config.base import CheckSpec
from probes.config.board import BoardSpec
from probes.config.calls import CallSourcesConfig
from probes.config.evidence import EvidenceConfig
from probes.config.freshness import FreshnessSpec
from probes.config.hotline import HotlineSpec
from probes.config.links import LinksSpec
from probes.config.maintenance import MaintenanceWindow, active_window, spans_of
from probes.config.service import ServiceSpec
from probes.config.types import (
    ByteSize,
    Duration,
    Interval,
    Strict,
    Timeout,
    default_duration,
    default_size,
    label_value,
    time_zone,
)
from probes.config.workorders import OrderSourcesConfig, WorkOrdersSpec

DEFAULT_USER_AGENT = (
    "zombie-probes/0.1 (government service channel monitor; "
    "+https://github.com/zombie-probes/zombie-probes)"
)
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Channel labels become labels of zombie_channel_info: few keys, short values.
MAX_LABEL_KEYS = 10
MAX_LABEL_VALUE = 64
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
RESERVED_LABELS = frozenset({"channel", "kind", "owner", "title", "url", "job", "instance",
                             "state", "reason", "check", "source", "severity"})  # fmt: skip
ChannelKind = Literal["website", "service", "board", "hotline"]


def listen_address(listen: str) -> tuple[str, int]:
    """(host, port) of a `HOST:PORT` listen address (`[::1]:9705` for IPv6; an empty host
    is every interface); ValueError with the expected form otherwise. Port 0 picks any."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or (host and not host.strip("[]")):
        raise ValueError("not HOST:PORT (for example 127.0.0.1:9705)")
    if int(port) > 65535:
        raise ValueError(f"port {port} is not between 0 and 65535")
    return host.strip("[]") or "0.0.0.0", int(port)


# Which check kinds may watch which channel kind: a hotline has no web page to fetch and a
# website has no call log.
ALLOWED_CHECKS: dict[str, frozenset[str]] = {
    "website": frozenset({"availability", "freshness", "links"}),
    "service": frozenset({"availability", "service", "links"}),
    "board": frozenset({"availability", "board", "freshness", "links"}),
    "hotline": frozenset({"hotline", "workorders"}),
}


class GlobalConfig(Strict):
    """Defaults for every channel and the process-wide limits."""

    interval: Interval = Field(
        default=default_duration("30m"),
        description="default check interval; 30m gives 48 probes a day, above the official 20",
    )
    timeout: Timeout = Field(
        default=default_duration("15s"),
        description="default overall deadline of one check run (official: 15 s)",
    )
    user_agent: str = Field(default=DEFAULT_USER_AGENT, min_length=1)
    max_body: ByteSize = Field(
        default=default_size("5MiB"), description="cap on a decoded response body"
    )
    max_redirects: int = Field(default=10, ge=0, le=50)
    per_host_concurrency: int = Field(
        default=2, ge=1, description="requests in flight to one host, to be polite"
    )
    max_in_flight: int = Field(default=64, ge=1, description="checks running at once")
    verify_tls: bool = True
    http_transport: Literal["native", "aiohttp", "httpcore"] = Field(
        default="native",
        description="httpx transport: native (asyncio and the llhttp parser) costs 0.6-0.9x "
        "the CPU per request of aiohttp (httpx-aiohttp) and 0.3x of httpcore; needs a restart",
    )
    listen: str = Field(default="127.0.0.1:9705", description="HOST:PORT of the HTTP endpoints")

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: str) -> str:
        listen_address(value)
        return value

    state_path: str = Field(default="zombie-probes.db", description="SQLite state file")
    location: str | None = Field(
        default=None,
        description="vantage point: when set, a `location` label on every exported series "
        "(`serve --location` overrides it); letters, digits, _ . -",
    )
    history_retention: Duration = Field(
        default=default_duration("35d"),
        description="how long check history is kept in the state file",
    )
    metrics_detail: bool = Field(
        default=False,
        description="/metrics also shows per-column, per-step and per-percentile series "
        "(/metrics?detail=true asks for them per scrape; /probe always has them)",
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="zone of maintenance windows and of times the command line prints",
    )
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    labels: list[str] = Field(
        default_factory=list,
        max_length=MAX_LABEL_KEYS,
        description="keys channels may set under `labels:` (district, level, system), "
        "exported on zombie_channel_info for dashboards and alert routing",
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="maintenance windows of every channel"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("labels")
    @classmethod
    def _label_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not _LABEL_KEY.match(key) or key in RESERVED_LABELS:
                raise ValueError(
                    f"label key {key!r}: use lower-case letters, digits and '_', not one of "
                    f"{', '.join(sorted(RESERVED_LABELS))}"
                )
        if len(set(keys)) != len(keys):
            raise ValueError("a label key is declared twice")
        return keys

    @field_validator("location")
    @classmethod
    def _location_is_a_label(cls, value: str | None) -> str | None:
        return None if value is None else label_value(value, "location")


class ChecksConfig(Strict):
    """The checks that watch one channel; each kind at most once."""

    availability: AvailabilitySpec | None = None
    freshness: FreshnessSpec | None = None
    links: LinksSpec | None = None
    service: ServiceSpec | None = None
    board: BoardSpec | None = None
    hotline: HotlineSpec | None = None
    workorders: WorkOrdersSpec | None = None

    def items(self) -> list[tuple[str, CheckSpec]]:
        """(check kind, spec) for every configured check, in declaration order."""
        out: list[tuple[str, CheckSpec]] = []
        for name in type(self).model_fields:
            spec = getattr(self, name)
            if spec is not None:
                out.append((name, spec))
        return out


class ChannelConfig(Strict):
    """One channel citizens meet: a website, an online service, a board or a hotline."""

    name: str = Field(description="unique id, used as the `channel` label: letters, digits, _ . -")
    kind: ChannelKind
    owner: str = Field(min_length=1, description="the responsible bureau (责任单位)")
    title: str = Field(default="", description="human title, shown in zombie_channel_info")
    url: HttpUrl | None = Field(default=None, description="the page citizens open")
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    timezone: str | None = Field(
        default=None, description="zone of this channel's maintenance windows (global.timezone)"
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="this channel's maintenance windows (besides global)"
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="values of the label keys declared in global.labels, e.g. district: 西湖区",
    )

    @field_validator("labels")
    @classmethod
    def _label_values(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not 1 <= len(value) <= MAX_LABEL_VALUE or "://" in value or not value.isprintable():
                raise ValueError(
                    f"label {key}: {value!r} must be 1-{MAX_LABEL_VALUE} printable characters "
                    "and not a URL (it becomes a metric label value)"
                )
        return labels

    @field_validator("name")
    @classmethod
    def _name_is_a_label(cls, value: str) -> str:
        return label_value(value, "channel name")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else time_zone(value)

    @model_validator(mode="after")
    def _checks_fit_kind(self) -> ChannelConfig:
        allowed = ALLOWED_CHECKS[self.kind]
        for name, _ in self.checks.items():
            if name not in allowed:
                raise ValueError(
                    f"a {self.kind} channel cannot have a {name} check "
                    f"(allowed: {', '.join(sorted(allowed))})"
                )
        if not self.checks.items():
            raise ValueError("a channel needs at least one check under `checks:`")
        return self

    def enabled_checks(self) -> list[tuple[str, CheckSpec]]:
        return [(name, spec) for name, spec in self.checks.items() if spec.enabled]

    @property
    def zone(self) -> ZoneInfo:
        """The channel's time zone (filled from `global.timezone` at load)."""
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)

    def maintenance_spans(self, since: float, until: float) -> list[tuple[float, float]]:
        """The channel's maintenance intervals overlapping [since, until] (epoch s)."""
        return spans_of(self.maintenance, self.zone, since, until)

    def maintenance_at(self, t: float) -> MaintenanceWindow | None:
        """The maintenance window `t` falls in, if any."""
        return active_window(self.maintenance, self.zone, t)


class Config(Strict):
    """A whole configuration file."""

    global_: GlobalConfig = Field(default_factory=GlobalConfig, alias="global")
    channels: list[ChannelConfig] = Field(default_factory=list)
    calls: CallSourcesConfig | None = Field(
        default=None, description="hotline call-record sources (MQTT, files)"
    )
    orders: OrderSourcesConfig | None = Field(
        default=None, description="work-order event sources (followed JSON Lines files)"
    )

    @field_validator("channels")
    @classmethod
    def _declared_labels(
        cls, channels: list[ChannelConfig], info: ValidationInfo
    ) -> list[ChannelConfig]:
        settings = info.data.get("global_")
        declared = set(settings.labels) if isinstance(settings, GlobalConfig) else set()
        for index, channel in enumerate(channels):
            unknown = sorted(set(channel.labels) - declared)
            if unknown:
                raise ValueError(
                    f"channels[{index}] ({channel.name}): label {', '.join(unknown)} is not "
                    f"declared in global.labels ({', '.join(sorted(declared)) or 'none'})"
                )
        return channels

    @field_validator("channels")
    @classmethod
    def _unique_names(cls, channels: list[ChannelConfig]) -> list[ChannelConfig]:
        seen: dict[str, int] = {}
        for index, channel in enumerate(channels):
            if channel.name in seen:
                raise ValueError(
                    f"channel name {channel.name!r} is used twice "
                    f"(channels[{seen[channel.name]}] and channels[{index}])"
                )
            seen[channel.name] = index
        return channels

    @field_validator("calls")
    @classmethod
    def _calls_name_hotlines(
        cls, calls: CallSourcesConfig | None, info: ValidationInfo
    ) -> CallSourcesConfig | None:
        channels = info.data.get("channels")
        if calls is None or channels is None:  # no channels: their own errors are reported
            return calls
        hotlines = {c.name for c in channels if c.kind == "hotline"}
        wrong = [
            f"files[{i}].{where} names {name!r}"
            for i, source in enumerate(calls.files)
            for where, name in source.named_channels()
            if name not in hotlines
        ]
        if wrong:
            known = ", ".join(sorted(hotlines)) or "none"
            raise ValueError(
                f"{'; '.join(wrong)}: not a hotline channel of this config (hotlines: {known})"
            )
        return calls

    def with_defaults(self) -> Config:
        """A copy where every check's interval and timeout are filled from `global:`, and
        every channel's time zone, maintenance windows (its own, then the global ones) and
        labels (every declared key, "" where the channel sets none), so a channel alone
        says everything its verdict and its metrics need."""
        channels = []
        # Equal specs are one object: a national config repeats the same availability and
        # board spec (defaults, phrase lists, nested models) for thousands of channels, and
        # a frozen model can be shared. About a third of the config's memory.
        shared: dict[tuple[type, str, str], CheckSpec] = {}
        for channel in self.channels:
            maintenance = [*channel.maintenance]
            maintenance += [w for w in self.global_.maintenance if w not in maintenance]
            zone = channel.timezone or self.global_.timezone
            labels = {key: channel.labels.get(key, "") for key in self.global_.labels}
            updates: dict[str, CheckSpec] = {}
            for name, spec in channel.checks.items():
                fill: dict[str, float] = {}
                if spec.interval is None:
                    fill["interval"] = self.global_.interval
                if spec.timeout is None:
                    fill["timeout"] = self.global_.timeout
                filled = spec.model_copy(update=fill) if fill else spec
                # Both dumps: the values, and which of them the file set (also nested).
                key = (type(filled), filled.model_dump_json(),
                       filled.model_dump_json(exclude_unset=True))  # fmt: skip
                updates[name] = shared.setdefault(key, filled)
            checks = channel.checks.model_copy(update=updates)
            channels.append(
                channel.model_copy(
                    update={
                        "checks": checks,
                        "timezone": zone,
                        "maintenance": maintenance,
                        "labels": labels,
                    }
                )
            )
        return self.model_copy(update={"channels": channels})

    def channel(self, name: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.name == name), None)
