"""Re-posts: a message posted again after its answer, which shows the answer solved
nothing (`board_unresolved`).

A later message B re-posts an earlier answered message A when B was posted after A's
answer, within `window`, and:
- A and B are by the same user (when the board shows users) and their titles are
  near-identical (`SAME_TITLE` of their character pairs shared) or their bodies are
  (`SAME_BODY` of their character 3-grams), or B says it complains again (再次反映,
  多次反映, 仍未解决, 至今未解决, 还是没有解决) about a title on the same topic
  (`REPOST_TOPIC`);
- or, whoever posted them (boards that show no users), B says it complains again and
  its title, without those words, is near-identical to A's.
Titles and bodies are compared with the board boilerplate detector's normalisation
(`boilerplate.topic`, `boilerplate.shingles`), so dates, numbers and punctuation that
differ do not hide a repeat.

Measured on the real board (realdata/board/taidi2020c_replies.csv, README "Boards"): same
-user pairs of near-identical titles have title similarity 0.6 and above, and bodies
copied again 0.8 and above; unrelated messages of one user stay below 0.3.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from probes.boards.boilerplate import jaccard, shingles, topic

SAME_TITLE = 0.6
SAME_BODY = 0.8
REPOST_TOPIC = 0.3
DEFAULT_WINDOW = 365 * 86400.0
AGAIN = re.compile(
    r"再次反映|再次投诉|多次反映|多次投诉|仍未解决|至今未解决|还是没有解决|仍然没有解决"
)


@dataclass(frozen=True, slots=True)
class Post:
    """What the re-post rule needs of a message: answered_at is its reply time (None when
    unanswered); user and body are empty when the board does not show them."""

    id: str
    title: str
    posted: float
    answered_at: float | None
    user: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True)
class Repost:
    """Message `again` posted after `original` was answered: that answer solved nothing."""

    original: Post
    again: Post
    why: str  # "same user, near-identical title", "再次反映 about the same title", …

    @property
    def evidence(self) -> str:
        return (f"「{self.again.title[:40]}」 ({self.again.id}) posted again after the answer "
                f"to 「{self.original.title[:40]}」 ({self.original.id}): {self.why}")  # fmt: skip


def _title_similarity(a: str, b: str) -> float:
    ta, tb = topic(AGAIN.sub("", a)), topic(AGAIN.sub("", b))
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def _why(a: Post, b: Post) -> str | None:
    again = bool(AGAIN.search(b.title) or AGAIN.search(b.body[:200]))
    titles = _title_similarity(a.title, b.title)
    bodies = jaccard(shingles(a.body), shingles(b.body)) if a.body and b.body else 0.0
    if a.user and a.user == b.user:
        if titles >= SAME_TITLE:
            return "same user, near-identical title"
        if bodies >= SAME_BODY:
            return "same user, near-identical text"
        if again and titles >= REPOST_TOPIC:
            return "same user complains again about the same topic"
        return None
    if again and titles >= SAME_TITLE:
        return "complains again about the same title"
    return None


def find_reposts(posts: Sequence[Post], window: float = DEFAULT_WINDOW) -> list[Repost]:
    """Every (answered message, later re-post) pair; each re-post is paired with the most
    recent answered message it repeats. Candidates are the same user's messages and, for a
    message that says it complains again, the messages sharing a character pair of its
    title: near-linear in the board's size."""
    ordered = sorted(posts, key=lambda p: p.posted)
    by_user: dict[str, list[Post]] = defaultdict(list)
    by_pair: dict[str, list[Post]] = defaultdict(list)
    found: list[Repost] = []
    for b in ordered:
        candidates = {id(p): p for p in by_user.get(b.user, [])} if b.user else {}
        if AGAIN.search(b.title) or AGAIN.search(b.body[:200]):
            for pair in topic(AGAIN.sub("", b.title)):
                candidates.update((id(p), p) for p in by_pair.get(pair, []))
        best: Repost | None = None
        for a in sorted(candidates.values(), key=lambda p: p.posted, reverse=True):
            if a.answered_at is None or not a.answered_at < b.posted <= a.answered_at + window:
                continue
            why = _why(a, b)
            if why is not None:
                best = Repost(a, b, why)
                break
        if best is not None:
            found.append(best)
        if b.user:
            by_user[b.user].append(b)
        for pair in topic(b.title):
            by_pair[pair].append(b)
    return found
