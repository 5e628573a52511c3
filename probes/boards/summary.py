"""A board's standing from its tracked messages: how many are answered (on time or late),
unanswered, overdue or past the 3-month veto, the oldest unanswered posting, reply latency
and the boilerplate share over the window, and whether the board has gone silent.

Pure: the board check builds it from the state store and turns it into measurements,
evidence and details; tests build it from plain records.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from probes.boards import boilerplate
from probes.boards.stats import Latency, latency, reply_deadline
from probes.config.board import BoardSpec
from probes.config.types import age_text
from probes.pages.dates import CN_TZ
from probes.state.board import TrackedMessage

SHOWN_MESSAGES = 10


@dataclass(frozen=True, slots=True)
class Waiting:
    """An unanswered message and where it stands against its deadline."""

    id: str
    title: str
    posted: float
    due: float
    overdue: bool
    veto: bool  # unanswered longer than unanswered_zombie_after
    interim: bool = False  # replied to, but only with an acknowledgement or a forward


@dataclass(frozen=True, slots=True)
class BoardSummary:
    answered: int
    answered_late: int
    unanswered: int
    unknown: int
    waiting: tuple[Waiting, ...]  # unanswered, oldest first
    latency: Latency
    replies_with_text: int
    boilerplate: int
    boilerplate_example: str
    silent: bool
    posted_in_silent_window: int
    deadline_estimated: bool
    late_examples: tuple[str, ...] = field(default=())

    @property
    def overdue(self) -> int:
        return sum(w.overdue for w in self.waiting)

    @property
    def vetoed(self) -> tuple[Waiting, ...]:
        return tuple(w for w in self.waiting if w.veto)

    @property
    def boilerplate_ratio(self) -> float | None:
        if not self.replies_with_text:
            return None
        return self.boilerplate / self.replies_with_text


@dataclass(frozen=True, slots=True)
class BoilerplateCounts:
    """The detector's verdict on a window's replies: how many, how many flagged, and the
    first flagged one as an example."""

    replies: int
    flagged: int
    example: str = ""


Counter = Callable[[Sequence[str], Sequence[str], Sequence[str], BoardSpec], BoilerplateCounts]


def count_boilerplate(
    texts: Sequence[str], owners: Sequence[str], titles: Sequence[str], spec: BoardSpec
) -> BoilerplateCounts:
    """Run the detector with the spec's settings (`owners`, `titles`: the id and title of
    the message each reply answers)."""
    report = boilerplate.detect(
        texts, phrases=spec.boilerplate_phrases, forward_words=spec.forward_words,
        threshold=spec.near_duplicate_threshold, min_substance=spec.min_substance_chars,
        short_reply=spec.short_reply_chars, owners=owners, topics=titles,
    )  # fmt: skip
    example = texts[min(report.flagged)] if report.flagged else ""
    return BoilerplateCounts(len(texts), len(report.flagged), example)


def interim_rule(spec: BoardSpec) -> boilerplate.Acknowledgement:
    """The spec's acknowledge-only rule: replies it flags are no answer."""
    return boilerplate.Acknowledgement.of(
        spec.boilerplate_phrases, spec.forward_words, min_substance=spec.min_substance_chars,
        short_reply=spec.short_reply_chars,
    )  # fmt: skip


def summarise(
    messages: Sequence[TrackedMessage],
    spec: BoardSpec,
    now: float,
    cache: Counter | None = None,
) -> BoardSummary:
    """The board's standing; `cache` may stand in for `count_boilerplate` (same inputs,
    same answer) so unchanged replies are not compared again on every run."""
    answered = late = unknown = 0
    waiting: list[Waiting] = []
    late_examples: list[str] = []
    estimated = False
    window_start = now - spec.window
    pairs: list[tuple[float, float]] = []
    texts: list[str] = []
    owners: list[str] = []
    titles: list[str] = []
    interim = interim_rule(spec)
    for m in messages:
        deadline = reply_deadline(m.posted, spec.reply_deadline_workdays)
        if m.answered is None:
            unknown += 1
            continue
        # An interim reply (留言已收悉，已转相关部门) answers nothing: still in progress,
        # whatever status the board shows, and its text still counts as boilerplate.
        only_interim = bool(m.reply_text) and interim.only(m.reply_text or "")
        if not m.answered or only_interim:
            estimated |= deadline.estimated
            waiting.append(
                Waiting(m.id, m.title, m.posted, deadline.due, now > deadline.due,
                        now - m.posted > spec.unanswered_zombie_after, only_interim)
            )  # fmt: skip
            if m.reply_text and m.posted >= window_start:
                texts.append(m.reply_text)
                owners.append(m.id)
                titles.append(m.title)
            continue
        reply = m.reply_time
        if reply is not None and reply > deadline.due:
            late += 1
            estimated |= deadline.estimated
            if len(late_examples) < SHOWN_MESSAGES:
                late_examples.append(
                    f"answered late: 「{m.title}」 posted {_day(m.posted)}, "
                    f"due {_day(deadline.due)}, answered {_day(reply)}"
                )
        else:
            answered += 1
        if reply is not None and reply >= window_start:
            pairs.append((m.posted, reply))
        if m.reply_text and max(reply or 0.0, m.posted) >= window_start:
            texts.append(m.reply_text)
            owners.append(m.id)
            titles.append(m.title)
    counts = (cache or count_boilerplate)(texts, owners, titles, spec)
    waiting.sort(key=lambda w: w.posted)
    silent_start = now - spec.silent_window
    recent = [m for m in messages if m.posted >= silent_start]
    replied_recently = any(
        (m.reply_time or 0.0) >= silent_start or (m.answered and m.posted >= silent_start)
        for m in messages
    )
    silent = len(recent) >= spec.silent_min_messages and not replied_recently
    return BoardSummary(
        answered=answered, answered_late=late, unanswered=len(waiting), unknown=unknown,
        waiting=tuple(waiting), latency=latency(pairs), replies_with_text=counts.replies,
        boilerplate=counts.flagged, boilerplate_example=counts.example, silent=silent,
        posted_in_silent_window=len(recent), deadline_estimated=estimated,
        late_examples=tuple(late_examples),
    )  # fmt: skip


def evidence(summary: BoardSummary, spec: BoardSpec, now: float) -> list[str]:
    """Lines for humans: the unanswered and overdue messages with their ages first."""
    lines = []
    for w in summary.waiting[:SHOWN_MESSAGES]:
        veto = f"OVER {spec.unanswered_zombie_after / 86400:.0f} DAYS"
        state = veto if w.veto else "overdue" if w.overdue else "waiting"
        if w.interim:
            state += ", interim reply only"
        lines.append(
            f"unanswered ({state}): 「{w.title}」 posted {_day(w.posted)}, "
            f"{age_text(now - w.posted)} ago, reply due {_day(w.due)}"
        )
    if len(summary.waiting) > SHOWN_MESSAGES:
        lines.append(f"… and {len(summary.waiting) - SHOWN_MESSAGES} more unanswered")
    lines.extend(summary.late_examples[:3])
    lat = summary.latency
    if lat.count:
        lines.append(
            f"reply latency over {lat.count} replies: median {lat.p50 / 86400:.1f} days, "
            f"p90 {lat.p90 / 86400:.1f} days"
        )
    ratio = summary.boilerplate_ratio
    if ratio is not None:
        shown = summary.boilerplate_example[:40]
        lines.append(
            f"boilerplate replies: {summary.boilerplate}/{summary.replies_with_text} "
            f"({ratio:.0%})" + (f", e.g. 「{shown}」" if shown else "")
        )
    if summary.silent:
        lines.append(
            f"silent: {summary.posted_in_silent_window} messages posted in the last "
            f"{spec.silent_window / 86400:.0f} days and no reply"
        )
    if summary.deadline_estimated:
        lines.append(
            "deadlines estimated: no official holiday calendar for part of the span "
            "(Monday-Friday assumed)"
        )
    return lines


def _day(ts: float) -> str:
    if math.isnan(ts):
        return "?"
    return dt.datetime.fromtimestamp(ts, CN_TZ).strftime("%Y-%m-%d")
