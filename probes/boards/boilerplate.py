"""The boilerplate-reply detector (复读机式回复): replies that are near-duplicates of replies
to other messages, or that only acknowledge or forward ("留言已收悉，已转相关部门") without
an answer. Standard library only.

Near-duplicates: each reply is normalised (whitespace, punctuation and digits dropped, so
dates, ids and phone numbers that a template fills in do not count), cut into character
3-grams, and compared by Jaccard similarity. Comparing every pair is quadratic (4 million
pairs for a board's 2,800 replies), so candidates come from MinHash with locality-sensitive
hashing (32 hash functions in 8 bands of 4 rows: pairs above about 0.6 similarity share a
band with high probability), and each candidate pair is then verified exactly. Replies of
the same message never count as duplicates of each other, nor do replies to messages on
the same topic (titles sharing at least `SAME_TOPIC` of their character pairs): one answer
given to everyone who raised the same question is consistent, not boilerplate.

Acknowledgements: a reply that has fewer than `min_substance` characters left once the
configured boilerplate phrases, courtesy words, dates, phone numbers and user ids are
removed says nothing; a short reply (at most `short_reply` characters) that forwards or
refers elsewhere ("已转交市公安局", "请咨询县教育局，电话……") answers nothing either.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

SHINGLE = 3
PERMUTATIONS = 32
BANDS = 8
ROWS = PERMUTATIONS // BANDS
# Long replies are compared on their first characters: templates show at the start, and it
# bounds the work per reply.
MAX_CHARS = 1000
# A bucket this large (one template answering hundreds of messages) is verified against a
# few of its members instead of pairwise, to stay linear.
BIG_BUCKET = 50
# Titles at least this similar (Jaccard of character pairs) ask the same question. Measured
# on the real board: pairs of identical answers have title similarity 0 (a template over
# unrelated questions) or 0.3 and above (one question asked by several people).
SAME_TOPIC = 0.3
_SEEDS = tuple(random.Random(20200601).getrandbits(32) for _ in range(PERMUTATIONS))
_NOT_LETTER = re.compile(r"[\W\d_]+")
_NOT_WORD = re.compile(r"[\W_]+")
# Filled-in parts of templates: dates (2019年3月21日, 2019-03-21), phone numbers and
# user ids (UU0082327).
_NOISE = re.compile(
    r"(?:19|20)\d\d\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?"
    r"|[\d-]{7,}|[A-Za-z]{1,4}\d{4,}"
)
_COURTESY = ("您好", "你好", "尊敬的", "网友", "谢谢", "感谢", "您的", "留言", "来信", "收悉")


@dataclass(frozen=True, slots=True)
class BoilerplateReport:
    """Which replies are boilerplate, and why.

    duplicates / acknowledgements: indexes into the replies given (a reply can be both);
    flagged: their union.
    """

    replies: int
    duplicates: frozenset[int]
    acknowledgements: frozenset[int]

    @property
    def flagged(self) -> frozenset[int]:
        return self.duplicates | self.acknowledgements

    @property
    def ratio(self) -> float:
        return len(self.flagged) / self.replies if self.replies else 0.0


def normalise(text: str) -> str:
    """Letters only: whitespace, punctuation, symbols and digits removed, NFKC-folded
    (full-width letters and digits become ASCII first)."""
    return _NOT_LETTER.sub("", unicodedata.normalize("NFKC", text))


def shingles(text: str) -> frozenset[int]:
    """CRC-32 of every character 3-gram of a normalised text (deterministic across runs,
    unlike `hash`)."""
    norm = normalise(text)[:MAX_CHARS]
    return frozenset(
        zlib.crc32(norm[i : i + SHINGLE].encode()) for i in range(len(norm) - SHINGLE + 1)
    )


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= SAME_TOPIC


def strip_list(phrases: Sequence[str]) -> tuple[str, ...]:
    """Boilerplate phrases and courtesy words, normalised, longest first (so a phrase is
    removed before a shorter one inside it)."""
    words = {normalise(p) for p in (*phrases, *_COURTESY)} - {""}
    return tuple(sorted(words, key=len, reverse=True))


def substance(text: str, stripped: Sequence[str]) -> int:
    """Characters (letters and digits: "已于11月3日修复" is an answer) left in a reply once
    the `strip_list` words, full dates, phone numbers and user ids are gone."""
    folded = _NOISE.sub("", unicodedata.normalize("NFKC", text))
    norm = _NOT_WORD.sub("", folded)
    for phrase in stripped:
        norm = norm.replace(phrase, "")
    return len(norm)


def topic(title: str) -> frozenset[str]:
    """The character pairs of a normalised title."""
    norm = normalise(title)
    return frozenset(norm[i : i + 2] for i in range(len(norm) - 1))


def near_duplicates(
    texts: Sequence[str],
    threshold: float,
    owners: Sequence[str] | None = None,
    topics: Sequence[str] | None = None,
) -> frozenset[int]:
    """Indexes of texts at least `threshold` similar to a text of another owner whose
    topic (message title) differs."""
    owner = list(owners) if owners is not None else [str(i) for i in range(len(texts))]
    titles = [topic(t) for t in topics] if topics is not None else None
    sets = [shingles(t) for t in texts]
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    for index, shingle_set in enumerate(sets):
        if not shingle_set:
            continue
        hashes = list(shingle_set)
        signature = [min(map(seed.__xor__, hashes)) for seed in _SEEDS]
        for band in range(BANDS):
            key = (band, tuple(signature[band * ROWS : (band + 1) * ROWS]))
            buckets[key].append(index)
    found: set[int] = set()
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        if len(members) < 2:
            continue
        pairs: Iterable[tuple[int, int]]
        if len(members) > BIG_BUCKET:
            pairs = ((a, b) for a in members[:5] for b in members if a < b)
        else:
            pairs = combinations(members, 2)
        for a, b in pairs:
            if (a, b) in checked or owner[a] == owner[b]:
                continue
            checked.add((a, b))
            if jaccard(sets[a], sets[b]) < threshold:
                continue
            if titles is not None and _similar(titles[a], titles[b]):
                continue
            found.update((a, b))
    return frozenset(found)


def forwards_only(text: str, forward_words: Sequence[str], short_reply: int) -> bool:
    """A short reply that hands the question on instead of answering it (`forward_words`
    normalised, as `detect` passes them)."""
    norm = normalise(text)
    return len(norm) <= short_reply and any(w in norm for w in forward_words)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The acknowledge-only rule: a reply with fewer than `min_substance` characters of
    substance, or a reply of at most `short_reply` characters holding a forward word.
    Such a reply is boilerplate, and it is no answer: the message it replies to is still
    in progress."""

    stripped: tuple[str, ...]
    forwards: tuple[str, ...]
    min_substance: int = 10
    short_reply: int = 50

    @classmethod
    def of(
        cls,
        phrases: Sequence[str],
        forward_words: Sequence[str] = (),
        *,
        min_substance: int = 10,
        short_reply: int = 50,
    ) -> Acknowledgement:
        forwards = tuple(sorted({normalise(w) for w in forward_words} - {""}))
        return cls(strip_list(phrases), forwards, min_substance, short_reply)

    def only(self, text: str) -> bool:
        """True when `text` only acknowledges or forwards."""
        return substance(text, self.stripped) < self.min_substance or forwards_only(
            text, self.forwards, self.short_reply
        )


def detect(
    replies: Sequence[str],
    *,
    phrases: Sequence[str],
    forward_words: Sequence[str] = (),
    threshold: float = 0.8,
    min_substance: int = 10,
    short_reply: int = 50,
    owners: Sequence[str] | None = None,
    topics: Sequence[str] | None = None,
) -> BoilerplateReport:
    """Which of `replies` are boilerplate (`owners`: the message each reply answers,
    `topics`: that message's title)."""
    rule = Acknowledgement.of(
        phrases, forward_words, min_substance=min_substance, short_reply=short_reply
    )
    acks = frozenset(i for i, text in enumerate(replies) if rule.only(text))
    dups = near_duplicates(replies, threshold, owners, topics)
    return BoilerplateReport(len(replies), dups, acks)
