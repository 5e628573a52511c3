"""Which of a set of words occur in a body, answered in one pass over it.

The soft-error check asks this of every page it reads (`probes.pages.softerror`): are any
of its phrases' words (系统维护, 404, Not, Found, ...) in the body at all? One `in` per
word costs a pass over the page per word (about 1.3 ms for 20 words on a 190 KB page);
ahocorasick-rs's leftmost-first automaton answers in one SIMD-prefiltered pass (about
12 µs), the fastest of the matchers measured (`bench/bench_phrases.py`, figures in
bench/RESULTS.md).

A leftmost-first scan reports non-overlapping matches, so a word whose every occurrence
overlaps another reported word (服务暂停 inside 暂停服务暂停 after 暂停服务) is not reported
by it. Such a word is settled exactly after the scan: it is present when a reported word
contains it, and looked for with `in` when a reported word can overlap it (an end of one
is the start of the other); any other word is absent, since an occurrence the scan did
not report always overlaps one it did. The body is scanned in slices so that a body
repeating a word all through (`NotNotNot...`) costs one slice's matches of memory, not
the whole body's, and once a slice is that dense the rest is settled with one `in` per
word.
"""

from __future__ import annotations

from ahocorasick_rs import MATCHKIND_LEFTMOST_FIRST, BytesAhoCorasick

# Bytes scanned per call: bounds the match list a repetitive body makes at once.
SLICE = 64 * 1024
# Matches in one slice past which the body is settled by `in` per word instead.
DENSE = 1024


class WordScan:
    """The compiled scan of `keys` (distinct, non-empty byte strings); immutable once
    built, so checks and threads share it."""

    __slots__ = ("_automaton", "_inside", "_keys", "_overlapping", "_reach")

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        if len(set(keys)) != len(keys) or not all(keys):
            raise ValueError("keys must be distinct and non-empty")
        # Longest first: of two words starting at one place, the longer is reported.
        self._keys = tuple(sorted(keys, key=len, reverse=True))
        keys = self._keys
        # For each key, the other keys that contain it, and those that can overlap it
        # otherwise.
        self._inside = tuple(
            frozenset(j for j, k in enumerate(keys) if j != i and key in k)
            for i, key in enumerate(keys)
        )
        self._overlapping = tuple(
            frozenset(j for j, k in enumerate(keys)
                      if j != i and j not in self._inside[i] and _can_overlap(key, k))
            for i, key in enumerate(keys)
        )  # fmt: skip
        self._automaton = BytesAhoCorasick(keys, MATCHKIND_LEFTMOST_FIRST) if keys else None
        self._reach = max((len(k) for k in keys), default=1) - 1

    def present(self, body: bytes) -> frozenset[bytes]:
        """The keys that occur in `body`."""
        if self._automaton is None:
            return frozenset()
        reported: set[int] = set()
        view = memoryview(body)
        for start in range(0, len(body), SLICE):
            part = view[start : start + SLICE + self._reach]
            matches = self._automaton.find_matches_as_indexes(part)
            reported.update(i for i, _, _ in matches)
            if len(matches) > DENSE:
                # A body made of the words: one `in` per word left is quicker than
                # collecting every match of the rest.
                return frozenset(k for i, k in enumerate(self._keys) if i in reported or k in body)
        if not reported:
            return frozenset()
        found = set(reported)
        for i, key in enumerate(self._keys):
            if i in reported:
                continue
            # Inside a reported word; or perhaps hidden by one it can overlap: `in` tells.
            if not self._inside[i].isdisjoint(reported) or (
                not self._overlapping[i].isdisjoint(reported) and key in body
            ):
                found.add(i)
        return frozenset(self._keys[i] for i in found)


def _can_overlap(a: bytes, b: bytes) -> bool:
    """Whether occurrences of `a` and `b` can overlap without one containing the other:
    a proper end of one is the start of the other."""
    return _ends_into(a, b) or _ends_into(b, a)


def _ends_into(a: bytes, b: bytes) -> bool:
    """Whether an end of `a`, shorter than both, is the start of `b` (tried only where
    `b`'s first byte is in `a`)."""
    at = a.find(b[:1], 1)
    while at != -1:
        if len(a) - at < len(b) and b.startswith(a[at:]):
            return True
        at = a.find(b[:1], at + 1)
    return False
