"""Verdict rule of the `freshness` check: the official column rules (政府网站检查指标) over
the columns of one site, from the check's `FreshnessFindings`.

- `homepage_stale`: a `home` column with no new item for `homepage_zombie_age` (default
  14 days) is zombie, for `homepage_degraded_age` (10 days) degraded.
- `content_stale`: other columns older than their `max_age` (news 14 days, notices and
  policies 180 days). Zombie from `stale_columns_zombie` (5) such columns, degraded from
  `stale_columns_degraded` (3). A site watched through fewer columns than that would
  never warn, so degraded also applies when every judged column is stale (a one-off
  `check URL --as freshness` of a stale page says degraded, exit 1): one or two stale
  columns among several fresh ones are shown in the evidence, not in the verdict, as the
  official rule counts them.
- `column_blank`: blank columns (空白栏目), with the same counts and the same
  "every judged column" rule.
- `fake_freshness`: degraded for any column whose dates move while its items do not (or
  whose shown dates its own URLs contradict): the site pretends to be updated.
- `column_undated`: unknown for a column that could not be fetched or where no date could
  be found; it never counts as fresh, nor as stale.
- `evidence_missing`: unknown when the check did not finish (it ran out of time): no
  column was judged, which is never ok.
- `blocked_by_waf`: unknown for a column an anti-bot challenge hid (the product named);
  `list_rendered_by_script`: unknown for a column whose list the browser renders by
  script (it is not in the HTML, and no other date on the page speaks for it).
"""

from __future__ import annotations

from collections.abc import Sequence

from probes.config.freshness import FreshnessSpec
from probes.findings.freshness import ColumnFindings, FreshnessFindings
from probes.model import CheckResult, Reason, State
from probes.verdict.common import JudgeContext, not_finished


def reasons(
    spec: FreshnessSpec, result: CheckResult, findings: FreshnessFindings | None, jc: JudgeContext
) -> list[Reason]:
    if findings is None:
        return [not_finished(result)]
    site = spec.site
    cols = findings.columns
    judged = [c for c in cols if c.status != "unknown"]
    out: list[Reason] = []

    for c in judged:
        if c.class_ != "home" or c.status == "blank" or c.age is None:
            continue
        days = f"home page column {c.id}: no new item for {c.age / 86400:.0f} days"
        if c.age > site.homepage_zombie_age:
            out.append(Reason("homepage_stale", State.ZOMBIE, days, "freshness"))
        elif c.age > site.homepage_degraded_age:
            out.append(Reason("homepage_stale", State.DEGRADED, days, "freshness"))

    columns_only = [c for c in judged if c.class_ != "home"]
    stale = [c for c in columns_only if c.status == "stale"]
    level = _level(len(stale), len(columns_only), site.stale_columns_zombie,
                   site.stale_columns_degraded)  # fmt: skip
    if level is not None:
        out.append(Reason("content_stale", level, _names("stale", stale), "freshness"))

    blank = [c for c in judged if c.status == "blank"]
    level = _level(len(blank), len(judged), site.blank_columns_zombie,
                   site.blank_columns_degraded)  # fmt: skip
    if level is not None:
        out.append(Reason("column_blank", level, _names("blank", blank), "freshness"))

    fake = [c for c in judged if c.fake]
    if fake:
        out.append(
            Reason("fake_freshness", State.DEGRADED,
                   _names("dates move but items do not", fake), "freshness")
        )  # fmt: skip

    # Unknown columns by why: column_undated, or the code the kind gave (blocked_by_waf,
    # list_rendered_by_script); one reason per code, in a fixed order.
    unknown: dict[str, list[ColumnFindings]] = {}
    for c in cols:
        if c.status == "unknown":
            unknown.setdefault(c.code or "column_undated", []).append(c)
    for code in sorted(unknown):
        detail = "; ".join(f"{c.id}: {c.reason}" for c in unknown[code])
        out.append(Reason(code, State.UNKNOWN, detail, "freshness"))
    return out


def _level(count: int, of: int, zombie: int, degraded: int) -> State | None:
    if count >= zombie:
        return State.ZOMBIE
    if count >= degraded or (count and count == of):
        return State.DEGRADED
    return None


def _names(what: str, cols: Sequence[ColumnFindings]) -> str:
    ids = ", ".join(c.id for c in cols)
    return f"{len(cols)} column{'s' if len(cols) != 1 else ''} {what}: {ids}"
