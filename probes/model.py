"""Plain data shared by every part of the monitor: check results, measurements, verdicts.

A check kind returns a `Report` (what it found, with its typed `Findings`); the runner
wraps it in a `CheckResult` (check name, start, duration, the history window) and stores
it; the verdict module turns the latest results into a `Verdict`, and the exporter renders
both. Nothing here does I/O. Everything is frozen: a result is a fact about one moment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Failure(enum.StrEnum):
    """Why a check failed, from the fixed set the `zombie_check_failure` metric allows."""

    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    SOFT_ERROR = "soft_error"
    # An anti-bot challenge stood in front of the page: the check could not see it.
    BLOCKED = "blocked"
    ASSERTION = "assertion"
    PARSE_ERROR = "parse_error"
    TOO_LARGE = "too_large"


class State(enum.StrEnum):
    """A channel's state, the values of the `zombie_channel_state` state set.

    Order of precedence when a channel's checks disagree: zombie > degraded > unknown > ok.
    Positive evidence of a fault outranks missing evidence, and missing evidence is never ok.
    """

    OK = "ok"
    DEGRADED = "degraded"
    ZOMBIE = "zombie"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        """Monitoring-plugin exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
        return _EXIT[self]


_RANK = {State.OK: 0, State.UNKNOWN: 1, State.DEGRADED: 2, State.ZOMBIE: 3}
_EXIT = {State.OK: 0, State.DEGRADED: 1, State.ZOMBIE: 2, State.UNKNOWN: 3}


@dataclass(frozen=True, slots=True)
class Histogram:
    """A cumulative histogram snapshot: `buckets` are (upper bound, cumulative count) pairs
    ending with +Inf."""

    buckets: tuple[tuple[float, float], ...]
    sum: float
    count: float


@dataclass(frozen=True, slots=True)
class Measurement:
    """One named number a check measured.

    `name` is a metric family name from `probes.catalogue` without the `zombie_` prefix
    (for example `http_duration_seconds`); `labels` are the family's labels beyond
    `channel` and `kind`, which the exporter adds. Label values must be bounded: ids from
    config, never URLs or free text.
    """

    name: str
    value: float | Histogram
    labels: tuple[tuple[str, str], ...] = ()


class Findings:
    """Base of every check kind's findings: a frozen dataclass per kind in
    `probes.findings`, which the kind returns, the state layer stores and the kind's verdict
    rule reads as fields."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class RunWindow:
    """Runs of one check within the span its rule judges (the official "site unreachable"
    week, the service's consecutive failures), this run included: how many told success
    or failure, how many failed, and how many failed in a row up to this run (runs that
    could not tell are neither)."""

    span: float
    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0

    def including(self, success: bool | None) -> RunWindow:
        """The window after one more run with this outcome."""
        if success is None:
            return self
        failed = not success
        return RunWindow(
            self.span,
            self.runs + 1,
            self.failures + failed,
            self.consecutive_failures + 1 if failed else 0,
        )


@dataclass(frozen=True, slots=True)
class Report:
    """What a check kind returns for one run; the runner adds the envelope.

    success: True when the target did what it should, False when it demonstrably did not,
        None when the check could not tell (missing or unparseable evidence): the latter
        can only ever lead to `unknown`, never to `ok`.
    findings: the kind's typed findings for its verdict rule (`probes.findings`); None
        when there is nothing to find (no URL configured).
    failure: why it failed, from the fixed set (None on success).
    error: one line a human can act on ("connect: connection refused").
    evidence: short human-readable strings (the newest date found and where, the failing
        step, a sample unanswered message).
    measurements: numbers for the exporter.
    """

    success: bool | None
    findings: Findings | None = None
    failure: Failure | None = None
    error: str = ""
    evidence: tuple[str, ...] = ()
    measurements: tuple[Measurement, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one run of one check found: the kind's `Report` in the runner's envelope.

    check: the check's name in the channel's `checks:` (its kind).
    started: wall-clock start (epoch seconds); duration: seconds the run took.
    findings: None when the check did not finish (it ran out of time or crashed; then
        `failure`/`error` say so) or had nothing to find; the rules see that case too.
    window: the check's past runs over its rule's span with this one, for kinds whose
        rule judges history (None for the others).
    The other fields are the `Report`'s.
    """

    check: str
    success: bool | None
    started: float
    duration: float
    failure: Failure | None = None
    error: str = ""
    evidence: tuple[str, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    findings: Findings | None = None
    window: RunWindow | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason behind a verdict: a machine-readable code (`site_unreachable`), the
    level it pushes the channel to, and a one-line human explanation."""

    code: str
    state: State
    detail: str = ""
    check: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A channel's judged state and every active reason for it."""

    channel: str
    kind: str
    state: State
    reasons: tuple[Reason, ...] = ()
    judged_at: float = 0.0

    @property
    def summary(self) -> str:
        if not self.reasons:
            return self.state.value
        return "; ".join(f"{r.code}: {r.detail}" if r.detail else r.code for r in self.reasons)


# Records parsed once at the edge and stored by `probes.state`: a call to a hotline and a
# message on a board.


class Outcome(enum.StrEnum):
    """How a call ended, the `outcome` label of `zombie_hotline_calls_total`."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CONGESTION = "congestion"


class HangupBy(enum.StrEnum):
    CALLER = "caller"
    CALLEE = "callee"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call to a hotline.

    channel: the hotline's channel name in the config.
    call_id: unique per channel (Asterisk uniqueid, FreeSWITCH uuid, the robot's id);
        a record seen twice is stored once.
    start/answer/end: epoch seconds; `answer` is None for calls nobody answered.
    transfers: the departments the call (or its ticket) was passed through, in order.
    source: where it came from (`mqtt`, `file:<path>`, `import`), for the ingest counters.
    """

    channel: str
    call_id: str
    start: float
    answer: float | None
    end: float
    outcome: Outcome
    hangup_by: HangupBy | None = None
    transfers: tuple[str, ...] = ()
    source: str = ""

    @property
    def wait(self) -> float | None:
        """Seconds from start to answer, answered calls only."""
        return None if self.answer is None else self.answer - self.start

    @property
    def talk(self) -> float | None:
        """Seconds from answer to end, answered calls only."""
        return None if self.answer is None else self.end - self.answer

    @property
    def transfer_loop(self) -> bool:
        """True when the chain visits a department twice (推诿: passed back and forth)."""
        return len(set(self.transfers)) < len(self.transfers)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """One message as a list page (and possibly its own page) shows it.

    posted / replied: epoch seconds; answered: None when the page does not say.
    """

    id: str
    title: str
    url: str
    posted: float
    answered: bool | None
    replied: float | None = None
    reply_text: str | None = None


def one_line(text: str) -> str:
    """An error text on one line, as every error the monitor reports must be: each run of
    whitespace (newlines included) becomes one space, and the lone `^` a parser puts under
    a bad byte (aiohttp's multi-line parser errors) is dropped."""
    return " ".join(word for word in text.split() if word != "^")
