"""Value types every config section shares: durations, byte sizes, the strict base model.

Durations are written `90s`, `15m`, `14d`, `1h30m` (or a bare number of seconds) and parsed
once here into seconds as `float`; sizes `5MiB`, `512KiB`, `10MB` into bytes as `int`.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$")
_SIZE_UNITS = {
    None: 1, "B": 1, "KB": 1000, "KiB": 1024, "MB": 1000**2, "MiB": 1024**2,
    "GB": 1000**3, "GiB": 1024**3,
}  # fmt: skip


def parse_duration(value: Any) -> float:
    """Seconds from `90s`, `15m`, `1h30m`, `14d`, `2w`, `250ms` or a plain number."""
    if isinstance(value, bool):
        raise ValueError("a duration such as 90s, 15m, 14d is required, not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        pos, seconds = 0, 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            pos = match.end()
        if pos != len(text) or not text:
            raise ValueError(
                f"invalid duration {value!r}: use a number and a unit (ms, s, m, h, d, w), "
                "for example 90s, 15m, 14d, 1h30m"
            )
    else:
        raise ValueError(f"invalid duration {value!r}")
    if seconds < 0:
        raise ValueError(f"duration {value!r} must not be negative")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact `14d` / `90s` spelling of a duration, for messages and output."""
    # Days rather than weeks: the official rules and the config speak of 7d and 14d.
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def age_text(seconds: float) -> str:
    """A rough human age for evidence: `132 days`, `5 hours`, `12 minutes` (whole units,
    days from two days on, hours from two hours on)."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{max(seconds, 0) / 60:.0f} minutes"


def local_time(ts: float | None, tz: zoneinfo.ZoneInfo, timespec: str = "seconds") -> str:
    """`2026-11-18 10:00:00+08:00`: a time in a configured zone with its offset, never a
    bare UTC time; `-` for none. `timespec` as `datetime.isoformat` takes it."""
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, tz).isoformat(sep=" ", timespec=timespec)


def parse_size(value: Any) -> int:
    """Bytes from `5MiB`, `512KiB`, `10MB` or a plain number."""
    if isinstance(value, bool):
        raise ValueError("a size such as 5MiB is required, not a boolean")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and (match := _SIZE.match(value)):
        return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
    raise ValueError(f"invalid size {value!r}: use a number and a unit, for example 5MiB")


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d|w))+$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 90s, 15m, 14d, 1h30m, or seconds",
        }
    ),
]
# The shortest schedule and deadline a check may have: `interval: 0s` would fire a check
# back to back (thousands of requests a minute at one site), `timeout: 0s` fails every run.
MIN_INTERVAL = 1.0
MIN_TIMEOUT = 0.1


def _at_least(minimum: float, what: str) -> AfterValidator:
    def check(seconds: float) -> float:
        if seconds < minimum:
            raise ValueError(
                f"{what} {format_duration(seconds)} is below the minimum of "
                f"{format_duration(minimum) if minimum >= 1 else f'{minimum * 1000:g}ms'}"
            )
        return seconds

    return AfterValidator(check)


Interval = Annotated[Duration, _at_least(MIN_INTERVAL, "interval")]
Timeout = Annotated[Duration, _at_least(MIN_TIMEOUT, "timeout")]
ByteSize = Annotated[
    int,
    BeforeValidator(parse_size),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB)?$"},
                {"type": "integer", "minimum": 0},
            ],
            "description": "a size: 5MiB, 512KiB, 10MB, or bytes",
        }
    ),
]


def default_duration(text: str) -> float:
    """A `Duration` default spelled as in YAML (`"30m"`), so the JSON Schema shows `30m`;
    the model parses it (`validate_default`), hence the cast."""
    parse_duration(text)  # a typo in a default fails at import, not at first use
    return cast(float, text)


def default_size(text: str) -> int:
    """A `ByteSize` default spelled as in YAML (`"5MiB"`); see `default_duration`."""
    parse_size(text)
    return cast(int, text)


_LABEL_VALUE = re.compile(r"^[\w.\-]{1,64}$")


def label_value(value: str, what: str) -> str:
    """A config id that becomes a metric label value (a channel name, a column id): short
    and without spaces or slashes, so a URL or a sentence can never end up as a label."""
    if not _LABEL_VALUE.match(value):
        raise ValueError(
            f"{what} {value!r} must be 1-64 letters, digits, '_', '.' or '-' "
            "(it becomes a metric label)"
        )
    return value


def time_zone(value: str) -> str:
    """An IANA time zone name the system knows (`Asia/Shanghai`)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, validate_default=True
    )


def followed_path(value: str) -> str:
    """The path of a file followed like `tail -F` (call records, work-order events): the
    file may appear later, but its directory is where the exporting system writes, so a
    missing one is a typo or a host without that system."""
    folder = Path(value).absolute().parent
    if not folder.is_dir():
        raise ValueError(f"directory {folder} does not exist (the file may come later)")
    return value
