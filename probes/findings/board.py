"""Findings of the `board` check: the board's standing over every tracked message."""

from __future__ import annotations

from dataclasses import dataclass

from probes.model import Findings


@dataclass(frozen=True, slots=True)
class BoardFindings(Findings):
    """Counts over the tracked messages: unanswered, overdue (past the reply deadline),
    vetoed (unanswered past the 3-month veto), answered late; the oldest unanswered
    posting (epoch seconds) and the titles of the oldest vetoed and overdue ones; replies
    with text and how many of them are boilerplate (`boilerplate_ratio` None without
    replies); whether the board is silent (messages keep arriving, none answered) and
    how many arrived in the silent window; whether deadlines were estimated (no holiday
    calendar for the year)."""

    unanswered: int
    overdue: int
    vetoed: int
    answered_late: int
    replies_with_text: int
    boilerplate: int
    silent: bool
    posted_in_silent_window: int
    oldest_unanswered: float | None = None
    oldest_vetoed_title: str | None = None
    oldest_overdue_title: str | None = None
    deadline_estimated: bool = False

    @property
    def boilerplate_ratio(self) -> float | None:
        if not self.replies_with_text:
            return None
        return self.boilerplate / self.replies_with_text
