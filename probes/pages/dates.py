"""The date extraction engine: every date a government page expresses, as tz-aware times.

Government list pages write dates in many ways (`2024-11-03`, `2024/11/03`, `2024.11.03`,
`2024年11月3日 10:20`, `[11-03]`, full-width digits, `二〇二四年十一月三日`, dates in URLs
such as `/t20241103_123456.html` or `/202411/`) and set traps for a naive regex: a "today
is 2026年11月21日 星期六" widget, copyright years, ICP/公网安备/网站标识码 numbers, phone
numbers and future dates. This module owns recognising the former and refusing the latter;
the listing module (`probes.pages.listing`) decides which dates belong to items.

Rules every function here follows:
- times are returned aware, in `CN_TZ` (China Standard Time, UTC+8, no daylight saving);
  a written time without a zone is taken as China time, an ISO zone is honoured;
- nothing after `now` is ever returned (a future date is a typo or a scheduled item, not
  evidence of freshness);
- a month-day date without a year gets the latest year that keeps it not in the future;
- positions (`start`, `end`) index the caller's original string: normalisation maps every
  character to exactly one character, so offsets survive it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal

CN_TZ = dt.timezone(dt.timedelta(hours=8))

Precision = Literal["second", "minute", "day", "month"]

# Oldest year taken as a real publication date: Chinese government websites date from the
# late 1990s; "1900-01-01" placeholders and version strings are refused.
MIN_YEAR = 1990

# Full-width digits and separators become ASCII, one character for one, so positions hold.
_FULLWIDTH = dict(zip("０１２３４５６７８９：－／．　", "0123456789:-/. ", strict=True))
_HAS_FULLWIDTH = re.compile("[０-９：－／．　]")
# What the date patterns need as ASCII (they take a full-width colon and space as written).
_NEEDS_ASCII = re.compile("[０-９－／．]")

_CN_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip

# A full-width colon is taken as it is (`[:：]`), as `\s` takes a full-width space: a text
# is normalised only for full-width digits and separators (`_NEEDS_ASCII`).
_TIME = (
    r"(?:(?:\s{0,3}|T)(?P<H>[01]?\d|2[0-3])\s?[:：时]\s?(?P<M>[0-5]\d)"
    r"(?:\s?[:：分]\s?(?P<S>[0-5]\d)(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-](?:0\d|1[0-4])[:：]?[0-5]\d)?)?"
)
# One pass over the text finds every candidate; which alternative matched is told by the
# groups that are set. Lookarounds keep a date from being cut out of a longer number run
# (ICP numbers, phone numbers, version strings).
_DATE = re.compile(
    # year-month-day, with a consistent separator family, optional time
    r"(?<![\d./\-])(?P<y>(?:19|20)\d\d)\s?(?P<s1>[-/.年])\s?(?P<m>\d{1,2})\s?(?P<s2>[-/.月])"
    r"\s?(?P<d>\d{1,2})(?!\d|[./\-]\d)(?:\s?日)?" + _TIME
    # month-day only: 11-03, 11/03, [11-03] (two digits each), or 11月3日
    + r"|(?<![\d./\-])(?P<m2>0[1-9]|1[0-2])(?P<s3>[-/])(?P<d2>0[1-9]|[12]\d|3[01])"
    r"(?!\d|[./\-:：]\d)" + _TIME.replace("?P<", "?P<x")
    + r"|(?<![\d./\-])(?P<m3>1[0-2]|0?[1-9])月(?P<d3>[12]\d|3[01]|0?[1-9])日"
    + _TIME.replace("?P<", "?P<z")
)  # fmt: skip
_GROUP = {name: index - 1 for name, index in _DATE.groupindex.items()}
# A match's year-month-day fields and its time, its month-day fields and time (11-03), and
# those of 11月3日.
_YMD = itemgetter(*(_GROUP[n] for n in ("y", "s1", "m", "s2", "d", "H", "M", "S", "tz")))
_MD = itemgetter(*(_GROUP[n] for n in ("m2", "d2", "xH", "xM", "xS", "xtz")))
_MD_CN = itemgetter(*(_GROUP[n] for n in ("m3", "d3", "zH", "zM", "zS", "ztz")))
_NUMERIC_HINT = re.compile(r"\d\s?[-/.年月]\s?\d")
_CN_DATE = re.compile(
    r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})\s?年\s?(?P<m>[一二三四五六七八九十]{1,3})\s?月"
    r"\s?(?P<d>[一二三四五六七八九十]{1,4})\s?日"
)
_SEP_FAMILY = {"-": "-", "/": "/", ".": ".", "年": "月"}

# Context that makes a date a trap rather than content. Looked for just before the match
# (widget words, registration numbers, phones) or just after it (a weekday: the "today is
# 2026年11月21日 星期六" widget of page headers).
_WIDGET_BEFORE = re.compile(r"(今天|今日|当前|现在|today|now)[^\d\n]{0,6}$", re.IGNORECASE)
# Matched at the date's end (`Pattern.match` with a position: no `^`).
_WEEKDAY_AFTER = re.compile(r"[\s,，(（]{0,3}(星期|礼拜|周)[一二三四五六日天]")
_COPYRIGHT_BEFORE = re.compile(r"(©|copyright|\(c\)|版权所有|版权)", re.IGNORECASE)
_NUMBER_BEFORE = re.compile(
    r"(ICP|备案|公网安备|网安备|标识码|电话|传真|tel|fax|热线|手机|邮编|邮政编码|联系方式)"
    r"[^\n]{0,8}$",
    re.IGNORECASE,
)

# The three above in one search of the context before a date. A registration or phone
# word ends within 8 characters of the date, so it starts within the 20 characters
# `_NUMBER_BEFORE` is given, and a copyright word anywhere in the context counts.
_TRAP_BEFORE = re.compile(
    _WIDGET_BEFORE.pattern + "|" + _COPYRIGHT_BEFORE.pattern + "|" + _NUMBER_BEFORE.pattern,
    re.IGNORECASE,
)
# Every first character of the words above (either case): a context without any of them
# holds no trap word.
_TRAP_START = re.compile(r"[今当现©(版备公网标电传热手邮联tTnNcCiIİıfF]")

# Dates in URLs: /t20241103_123456.html, /20241103/, /2024/11/03/, /2024-11/03/, /202411/.
# Both alternatives open with a literal ("20" checked behind, "/"), so the engine skips to
# candidate characters instead of trying every position: `y` and `y2` are the year's last
# two digits.
_URL_DAY = re.compile(
    r"20(?:(?<=/20)|(?<=/t20))(?P<y>\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])"
    r"(?=[/_.\-]|$)"
    r"|/20(?P<y2>\d\d)[/\-](?P<m2>0?[1-9]|1[0-2])[/\-](?P<d2>0?[1-9]|[12]\d|3[01])(?=[/_.\-])"
)
_URL_MONTH = re.compile(
    r"/(?P<y>20\d\d)-?(?P<m>0[1-9]|1[0-2])(?=/)|/(?P<y2>20\d\d)/(?P<m2>0?[1-9]|1[0-2])(?=/)"
)


@dataclass(frozen=True, slots=True)
class DateMatch:
    """One date found in a text.

    when: the moment, aware, in CN_TZ (midnight for a date without time).
    start, end: its span in the text searched.
    precision: how much the text said (`day` when only a date, `minute` with a time).
    year_inferred: the text had no year (`[11-03]`); the year is the latest not in the
        future.
    """

    when: dt.datetime
    start: int
    end: int
    precision: Precision
    year_inferred: bool = False


def normalise(text: str) -> str:
    """Full-width digits and separators as ASCII, same length as `text`."""
    # A replace per full-width character present: `str.translate` takes its slow path on
    # any non-ASCII text, 3x the cost for the usual single "：".
    for ch in set(_HAS_FULLWIDTH.findall(text)):
        text = text.replace(ch, _FULLWIDTH[ch])
    return text


def find_dates(text: str, *, now: dt.datetime, traps: bool = True) -> list[DateMatch]:
    """Every date `text` expresses, in order, minus future dates and (when `traps`) the
    date widget, copyright, registration-number and phone-number traps."""
    now = _aware(now)
    norm = normalise(text) if _NEEDS_ASCII.search(text) else text
    out: list[DateMatch] = []
    # Every numeric date holds a digit-separator-digit run (a hint) starting within 3
    # characters of its own start, so a date is tried only at the 4 positions up to each
    # hint, in order: the leftmost matches `finditer` would give, without running the date
    # pattern at every character (10x the cost of the hint's scan). The lookbehinds still
    # see the characters before a position.
    pos = tried = 0  # a match may start at `pos`; positions below `tried` failed
    hint = _NUMERIC_HINT.search(norm)
    while hint is not None:
        at = hint.start()
        start = max(pos, tried, at - 3)
        while start <= at:
            match = _DATE.match(norm, start)
            if match is not None:
                pos = match.end()
                found = _from_match(match, now)
                if found is not None and not (traps and is_trap(norm, found.start, found.end)):
                    out.append(found)
                break
            start += 1
        tried = at + 1
        # A hint takes three characters.
        after = max(tried, pos)
        hint = _NUMERIC_HINT.search(norm, after) if after + 3 <= len(norm) else None
    if _has_cn_year(norm):
        for match in _CN_DATE.finditer(norm):
            found = _from_cn_match(match, now)
            if found is not None and not (traps and is_trap(norm, match.start(), match.end())):
                out.append(found)
        out.sort(key=lambda d: d.start)
    return out


def parse_datetime(text: str, *, now: dt.datetime) -> dt.datetime | None:
    """The first date (with its time when present) expressed in `text`, aware in CN_TZ,
    never after `now`; None when the text holds no such date."""
    found = find_dates(text, now=now)
    return found[0].when if found else None


def url_date(url: str, *, now: dt.datetime) -> DateMatch | None:
    """The date a URL's path carries (`/t20241103_1.html`, `/2024/11/03/`, or month
    precision `/202411/`), or None. Month precision gives the first of the month: a lower
    bound, so a URL can never make a column look fresher than it is."""
    now = _aware(now)
    path = url
    if "?" in path or "#" in path:
        path = path.split("?", 1)[0].split("#", 1)[0]
    scheme_end = path.find("://")
    if scheme_end >= 0:
        slash = path.find("/", scheme_end + 3)
        path = path[slash:] if slash >= 0 else ""
    last: tuple[dt.datetime, int, int] | None = None
    for match in _URL_DAY.finditer(path):
        y, m, d, y2, m2, d2 = match.groups()
        when = _make(2000 + int(y or y2), int(m or m2), int(d or d2))
        if when is not None and when <= now:
            last = when, match.start(), match.end()
    if last is not None:
        return DateMatch(*last, "day")
    best: DateMatch | None = None
    for match in _URL_MONTH.finditer(path):
        y, m = match.group("y") or match.group("y2"), match.group("m") or match.group("m2")
        when = _make(int(y), int(m), 1)
        if when is not None and when <= now:
            best = DateMatch(when, match.start(), match.end(), "month")
    return best


def is_trap(norm: str, start: int, end: int) -> bool:
    """True when the date at `norm[start:end]` is a widget, copyright, registration or
    phone number rather than content."""
    # A weekday takes two characters; a date ending its text (a list item's) has none.
    if end + 2 <= len(norm) and _WEEKDAY_AFTER.match(norm, end, end + 8):
        return True
    # Searched in place (`endpos`: `$` is the date's start): no slice of the context. Every
    # trap word starts with a `_TRAP_START` character, so the words are tried only where
    # one is (an alternation of words tried at every position costs 50 ns a character).
    for first in _TRAP_START.finditer(norm, max(0, start - 40), start):
        if _TRAP_BEFORE.match(norm, first.start(), start) is not None:
            return True
    return False


def _from_match(match: re.Match[str], now: dt.datetime) -> DateMatch | None:
    # One `groups()` call and C-level picks: a `group(name)` call per field cost more than
    # the rest of reading the date.
    groups = match.groups()
    y, s1, m, s2, d, *clock = _YMD(groups)
    if y is not None:
        if _SEP_FAMILY[s1] != s2:
            return None
        when = _make(int(y), int(m), int(d), _hms(clock))
        if when is None or when > now:
            return None
        return DateMatch(when, match.start(), match.end(), _precision(clock))
    m, d, *clock = _MD(groups)
    if m is None:
        m, d, *clock = _MD_CN(groups)
    when = _infer_year(int(m), int(d), _hms(clock), now)
    if when is None:
        return None
    return DateMatch(when, match.start(), match.end(), _precision(clock), True)


def _hms(clock: list[str | None]) -> tuple[int, int, int, str | None]:
    """(hour, minute, second, zone) of a match's time groups, midnight without a time."""
    hour, minute, second, tz = clock
    if hour is None:
        return 0, 0, 0, None
    return int(hour), int(minute or 0), int(second or 0), tz


def _precision(clock: list[str | None]) -> Precision:
    if clock[0] is None:
        return "day"
    return "second" if clock[2] is not None else "minute"


def _infer_year(
    month: int, day: int, hms: tuple[int, int, int, str | None], now: dt.datetime
) -> dt.datetime | None:
    # The latest year that keeps the date not in the future; 29 February looks back to
    # the latest leap year.
    year = now.astimezone(CN_TZ).year
    for y in range(year, year - 8, -1):
        when = _make(y, month, day, hms)
        if when is not None and when <= now:
            return when
    return None


def _has_cn_year(norm: str) -> bool:
    return "年" in norm and ("〇" in norm or "○" in norm or "零" in norm)


def _from_cn_match(match: re.Match[str], now: dt.datetime) -> DateMatch | None:
    year = 0
    for ch in match.group("y"):
        year = year * 10 + _CN_DIGITS[ch]
    month, day = _cn_number(match.group("m")), _cn_number(match.group("d"))
    if month is None or day is None:
        return None
    when = _make(year, month, day)
    if when is None or when > now:
        return None
    return DateMatch(when, match.start(), match.end(), "day")


def _cn_number(text: str) -> int | None:
    """十一 -> 11, 二十三 -> 23, 三十 -> 30, 九 -> 9; None for anything else."""
    if "十" not in text:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        return None
    value = (_CN_DIGITS.get(tens, -100) if tens else 1) * 10
    value += _CN_DIGITS.get(units, -100) if units else 0
    return value if value > 0 else None


def _make(
    y: int, m: int, d: int, hms: tuple[int, int, int, str | None] = (0, 0, 0, None)
) -> dt.datetime | None:
    if y < MIN_YEAR:
        return None
    hh, mm, ss, tz = hms
    try:
        if tz is None:
            return dt.datetime(y, m, d, hh, mm, ss, tzinfo=CN_TZ)
        when = dt.datetime(y, m, d, hh, mm, ss, tzinfo=_zone(tz))
    except ValueError:
        return None
    return when.astimezone(CN_TZ)


def _zone(tz: str) -> dt.timezone:
    if tz == "Z":
        return dt.UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "").replace("：", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _aware(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=CN_TZ)
