"""Multi-phrase matchers for the soft-error scan, side by side on real-sized pages.

The soft-error check first asks which words of its phrases (系统维护, 404 Not Found, ...)
occur in a page at all (`probes.pages.softerror`); most pages carry none and are never
parsed. This times that question, "which of these words are in this body", answered by
each candidate over the same bodies:

- `in` per word (the scan before the one-pass matcher), on bytes and on str;
- the stdlib `re` alternation of the words (`finditer`, non-overlapping);
- ahocorasick-rs (`BytesAhoCorasick` / `AhoCorasick`, overlapping matches);
- pyahocorasick (str only: bytes go through a latin-1 view);
- google-re2's `Set` (which patterns match, one pass);
- hyperscan (one match per pattern, `HS_FLAG_SINGLEMATCH`; str is encoded first).

Every candidate's answer is checked against `in` per word on every page, including pages
where two words overlap (暂停服务暂停: a non-overlapping scan reports one of them only).
Pages: a 190 KB column page of `bench_extract.build_page` (UTF-8 and GBK) and the real
175 KB gansu_scjg_search_list.html (UTF-8 and GBK), each also with one phrase added.
Candidates that are not installed are listed as such.

    .venv/bin/pip install ahocorasick-rs pyahocorasick google-re2 hyperscan  # to compare
    PYTHONPATH=. .venv/bin/python bench/bench_phrases.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from bench_extract import build_page  # noqa: E402

from probes.pages.softerror import DEFAULT_SOFT_ERRORS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata" / "pages" / "gansu_scjg_search_list.html"
WORDS = sorted({w for p in DEFAULT_SOFT_ERRORS for w in p.split()}, key=len, reverse=True)

Finder = Callable[[Any], set[Any]]
Maker = Callable[[list[Any]], Finder]


def plain_in(keys: list[Any]) -> Finder:
    return lambda body: {k for k in keys if k in body}


def stdlib_re(keys: list[Any]) -> Finder:
    pattern = re.compile((b"|" if isinstance(keys[0], bytes) else "|").join(map(re.escape, keys)))
    return lambda body: {m.group() for m in pattern.finditer(body)}


def ahocorasick_rs_overlapping(keys: list[Any]) -> Finder:
    import ahocorasick_rs as ac

    auto = ac.BytesAhoCorasick(keys) if isinstance(keys[0], bytes) else ac.AhoCorasick(keys)
    return lambda body: {keys[i] for i, _, _ in auto.find_matches_as_indexes(body, True)}


def wordscan(keys: list[Any]) -> Finder:
    from probes.pages.wordscan import WordScan

    if isinstance(keys[0], bytes):
        return WordScan(tuple(keys)).present  # type: ignore[return-value]
    scan = WordScan(tuple(k.encode() for k in keys))
    return lambda body: {k.decode() for k in scan.present(body.encode())}


def pyahocorasick(keys: list[Any]) -> Finder:
    import ahocorasick

    auto = ahocorasick.Automaton()
    binary = isinstance(keys[0], bytes)
    for k in keys:
        auto.add_word(k.decode("latin-1") if binary else k, k)
    auto.make_automaton()
    if binary:
        return lambda body: {k for _, k in auto.iter(body.decode("latin-1"))}
    return lambda body: {k for _, k in auto.iter(body)}


def google_re2(keys: list[Any]) -> Finder:
    import re2

    options = re2.Options()
    if isinstance(keys[0], bytes):  # GBK bytes are not UTF-8: match them as Latin-1
        options.encoding = re2.Options.Encoding.LATIN1
    s = re2.Set.SearchSet(options)
    for k in keys:
        s.Add(re.escape(k))
    s.Compile()
    return lambda body: {keys[i] for i in s.Match(body)}


def hyperscan(keys: list[Any]) -> Finder:
    import hyperscan as hs

    binary = isinstance(keys[0], bytes)
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(
        expressions=[re.escape(k if binary else k.encode()) for k in keys],
        ids=list(range(len(keys))),
        flags=[hs.HS_FLAG_SINGLEMATCH] * len(keys),
    )
    scratch = hs.Scratch(db)

    def find(body: Any) -> set[Any]:
        found: set[Any] = set()

        def on(i: int, start: int, end: int, flags: int, ctx: object) -> None:
            found.add(keys[i])

        db.scan(body if binary else body.encode(), match_event_handler=on, scratch=scratch)
        return found

    return find


CANDIDATES: dict[str, Maker] = {
    "`in` per word": plain_in,
    "stdlib re alternation": stdlib_re,
    "ahocorasick-rs, overlapping": ahocorasick_rs_overlapping,
    "ahocorasick-rs, leftmost-first + overlap check (`WordScan`)": wordscan,
    "pyahocorasick": pyahocorasick,
    "google-re2 Set": google_re2,
    "hyperscan (vectorscan), single match": hyperscan,
}


def pages() -> dict[str, str]:
    out = {"column page 190 KB": build_page(190, random.Random(7), items=40)}
    if REAL.exists():
        out["gansu search list 175 KB"] = REAL.read_text(encoding="utf-8")
    # One phrase written in the page's text, and two words overlapping (暂停服务暂停).
    for name, html in list(out.items()):
        half = len(html) // 2
        out[name + " + phrase"] = html[:half] + "<p>暂停服务暂停</p>" + html[half:]
    return out


def timed(fn: Finder, body: Any, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(body)
        times.append(time.perf_counter() - t)
    return min(times) * 1e6, statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(f"{len(WORDS)} words of {len(DEFAULT_SOFT_ERRORS)} default phrases; µs per body "
          f"(min / median of {args.repeat}); build: µs to compile the words (once per "
          "phrase list and codec)\n")  # fmt: skip
    bodies: list[tuple[str, str, Any]] = []
    for name, html in pages().items():
        bodies += [
            (name, "UTF-8 bytes", html.encode()),
            (name, "GBK bytes", html.encode("gbk", errors="replace")),
            (name, "str", html),
        ]
    keys = {
        "UTF-8 bytes": [w.encode() for w in WORDS],
        "GBK bytes": [w.encode("gbk") for w in WORDS],
        "str": WORDS,
    }
    header = ["candidate", "build", *(f"{name}, {form}" for name, form, _ in bodies)]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, make in CANDIDATES.items():
        try:
            make(WORDS)  # imports the module: not part of the build
            t = time.perf_counter()
            finders = {form: make(k) for form, k in keys.items()}
            build = (time.perf_counter() - t) * 1e6 / len(keys)
        except ImportError:
            print(f"| {label} | not installed |")
            continue
        cells = [label, f"{build:.0f}"]
        for _, form, body in bodies:
            fn = finders[form]
            if fn(body) != plain_in(keys[form])(body):
                cells.append("wrong")
                continue
            low, mid = timed(fn, body, args.repeat)
            cells.append(f"{low:.0f} / {mid:.0f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
