"""Where hotline call records come from: an MQTT broker and followed log files.

MQTT topics may contain `{channel}`: such a topic is subscribed once per hotline channel
of this replica (so a shard subscribes only to its own hotlines); a topic without it is
subscribed as is and the channel comes from each record. Secrets come from the
environment with `${ENV}` substitution, done by the config loader.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from probes.config.types import Duration, Strict, followed_path, time_zone

FileFormat = Literal["asterisk-csv", "freeswitch-csv", "jsonl"]


def readable_file(value: str | None) -> str | None:
    """A file the config names must exist and be readable when the config is loaded, so
    `config check` and the start fail with its line instead of the source failing later."""
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"no such file: {path.absolute()}")
    if not os.access(path, os.R_OK):
        raise ValueError(f"cannot read {path.absolute()}: permission denied")
    return value


class MqttTls(Strict):
    """TLS to the broker; the system trust store when `ca_file` is not set. The files are
    read at load time (`config check`, start, reload), so a missing or bad one is an
    error at its line."""

    ca_file: str | None = None
    cert_file: str | None = Field(default=None, description="client certificate (mutual TLS)")
    key_file: str | None = None
    insecure: bool = Field(default=False, description="skip host name verification (tests only)")

    files_readable = field_validator("ca_file", "cert_file", "key_file")(readable_file)

    @model_validator(mode="after")
    def _loads(self) -> MqttTls:
        if self.key_file and not self.cert_file:
            raise ValueError("key_file needs cert_file")
        self.context()
        return self

    def context(self) -> ssl.SSLContext:
        """The client TLS context; ValueError naming the file when one does not load."""
        try:
            ctx = ssl.create_default_context(cafile=self.ca_file)
        except (ssl.SSLError, OSError) as exc:
            raise ValueError(f"ca_file {self.ca_file}: not a PEM CA bundle ({exc})") from exc
        if self.cert_file:
            try:
                ctx.load_cert_chain(self.cert_file, self.key_file)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(
                    f"cert_file {self.cert_file}: cannot load the certificate and key ({exc})"
                ) from exc
        if self.insecure:
            ctx.check_hostname = False
        return ctx


class MqttSource(Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    topics: list[str] = Field(
        default_factory=lambda: ["zombie/calls/{channel}"],
        min_length=1,
        description="topic filters; `{channel}` is replaced by each hotline channel's name",
    )
    qos: Literal[1] = Field(default=1, description="QoS 1: at least once, deduplicated by call id")
    client_id: str = Field(
        default="zombie-probes",
        min_length=1,
        description="fixed id of the persistent session; `serve --shard I/N` appends "
        "-shard-I-of-N so every replica has a session of its own",
    )
    clean_session: bool = Field(
        default=False, description="false keeps records published while the monitor is down"
    )
    username: str | None = None
    password: str | None = Field(default=None, description="write it as ${ENV_VAR}")
    tls: MqttTls | None = None
    keepalive: Duration = Field(default=60.0, ge=5)
    # Above zero: the delay doubles from here, and 0 would reconnect in a tight loop.
    reconnect_min: Duration = Field(default=1.0, ge=0.01, description="first reconnect delay")
    reconnect_max: Duration = Field(default=60.0, ge=0.01, description="longest reconnect delay")

    @field_validator("username", "password")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        # `${MQTT_PASSWORD:-}` with the variable unset: no credentials rather than "".
        return value or None

    batch: int = Field(
        default=2000,
        ge=1,
        description="most records committed in one transaction (also raise the broker's "
        "max_inflight_messages, which caps how many arrive before an acknowledgement)",
    )
    linger: Duration = Field(
        default=0.05,
        le=1,
        description="longest a batch waits for more records after its first",
    )


class FollowedFile(Strict):
    """A file followed like `tail -F`, its offset kept in the state file: where it is, the
    zone of its local times, how often it is looked at. Call-detail and work-order files
    are both one of these."""

    path: str = Field(min_length=1)
    timezone: str = Field(default="Asia/Shanghai", description="zone of the file's local times")
    poll: Duration = Field(
        default=1.0, ge=0.01, description="how often the file is checked for growth"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("path")
    @classmethod
    def _directory_exists(cls, value: str) -> str:
        return followed_path(value)


class FileSource(FollowedFile):
    """A call-detail file followed like `tail -F`, its offset kept in the state file."""

    format: FileFormat
    columns: str | list[str] | None = Field(
        default=None,
        description="a named layout (asterisk-custom-sample, asterisk-cdr-csv, "
        "freeswitch-default) or the list of column names in file order",
    )
    channel: str | None = Field(default=None, description="every record belongs to this channel")
    channel_column: str | None = Field(
        default=None, description="column whose value picks the channel through `channels`"
    )
    channels: dict[str, str] = Field(
        default_factory=dict, description="column value (e.g. the dialled number) -> channel"
    )

    def named_channels(self) -> list[tuple[str, str]]:
        """(field, channel name) for every channel this source names."""
        out = [("channel", self.channel)] if self.channel is not None else []
        return out + [(f"channels[{key!r}]", name) for key, name in self.channels.items()]

    @model_validator(mode="after")
    def _one_way_to_the_channel(self) -> FileSource:
        if self.format != "jsonl" and self.channel is None and self.channel_column is None:
            raise ValueError("a CSV source needs `channel` or `channel_column` with `channels`")
        if self.channel_column is not None and not self.channels:
            raise ValueError("`channel_column` needs a `channels` mapping")
        return self


class CallSourcesConfig(Strict):
    mqtt: MqttSource | None = None
    files: list[FileSource] = Field(default_factory=list)
    retention: Duration = Field(
        default=35 * 86400.0,
        gt=0,
        description="call records older than this are deleted (hourly); totals are kept. "
        "Never less than the longest window of a hotline check",
    )
