"""The boilerplate-reply detector, on hand-made cases and on a real board's 2,816 replies
(../shared/realdata/board/taidi2020c_replies.csv, see its README)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from probes.boards.boilerplate import detect, near_duplicates, normalise
from probes.boards.stats import latency
from probes.config.board import DEFAULT_BOILERPLATE_PHRASES, DEFAULT_FORWARD_WORDS, BoardSpec
from probes.pages.dates import CN_TZ, parse_datetime

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "board"
REAL_CSV = REAL / "taidi2020c_replies.csv"
DAY = 86400.0

TEMPLATE = "您好！您的留言已收悉，已转相关部门办理，敬请关注后续回复。"
SUBSTANTIVE = [
    "经核实，该路段路灯因线路老化损坏，市政处已于3月5日更换线路，目前已恢复照明。",
    "入园报名需提供户口簿、房产证明及预防接种证，报名时间为每年5月10日至20日。",
    "公交集团将于下月起试行12路夜班车，末班车延至22:30，三个月后评估是否常态化。",
    "环卫所已调配备用车辆，每日清运两次，并在小区公示清运时间和监督电话。",
]


def test_normalise_keeps_letters_only() -> None:
    assert normalise("您好！ 2024年3月5日，ＡＢ路 12号。") == "您好年月日AB路号"


def test_template_replies_to_different_messages_are_boilerplate() -> None:
    replies = [
        TEMPLATE,
        "网友您好！" + TEMPLATE,
        TEMPLATE.replace("相关部门", "市住建局"),
        *SUBSTANTIVE,
    ]
    report = detect(replies, phrases=DEFAULT_BOILERPLATE_PHRASES)
    assert report.flagged == {0, 1, 2}
    assert report.ratio == pytest.approx(3 / 7)


def test_the_same_reply_to_the_same_message_is_not_a_duplicate() -> None:
    replies = [SUBSTANTIVE[0], SUBSTANTIVE[0], SUBSTANTIVE[1]]
    assert near_duplicates(replies, 0.8, owners=["a", "a", "b"]) == frozenset()
    assert near_duplicates(replies, 0.8, owners=["a", "b", "c"]) == {0, 1}


@pytest.mark.parametrize(
    ("reply", "boilerplate"),
    [
        ("您的意见很好，我们高度重视。", True),
        ("留言已收悉，感谢您的关注！", True),
        ("已转相关部门。", True),
        ("收到。", True),
        ("经核实，该井盖已于11月3日加固。", False),
        ("网友：您好！您所反映的问题已转交D市交通运输局。2018年11月22日", True),
        ("您好，请您详细咨询公安局户政科。（0000-00000000）", True),
        (SUBSTANTIVE[1], False),
    ],
)
def test_a_reply_that_only_acknowledges_or_forwards_is_boilerplate(
    reply: str, boilerplate: bool
) -> None:
    report = detect(
        [reply], phrases=DEFAULT_BOILERPLATE_PHRASES, forward_words=DEFAULT_FORWARD_WORDS
    )
    assert bool(report.acknowledgements) is boilerplate


def test_phrases_are_configurable() -> None:
    reply = "本单位知悉并将择机研究处理。"
    assert not detect([reply], phrases=DEFAULT_BOILERPLATE_PHRASES).flagged
    assert detect([reply], phrases=["本单位知悉", "择机研究处理"]).flagged == {0}


def test_near_duplicate_threshold_decides() -> None:
    a = (
        "经核实该小区电梯已由维保单位更换主板并通过特检院检验恢复运行请放心使用"
        "后续将每半月开展一次维护保养并在轿厢内公示维保单位和应急救援电话"
    )
    b = a.replace("主板", "钢丝绳")
    assert near_duplicates([a, b], 0.8) == {0, 1}
    assert near_duplicates([a, b], 0.99) == frozenset()


def _real_rows() -> list[dict[str, str]]:
    if not REAL_CSV.exists():
        pytest.skip(f"real board data not found at {REAL_CSV} (see ../shared/realdata/README.md)")
    with REAL_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_real_board_latency_and_boilerplate_statistics() -> None:
    rows = _real_rows()
    assert len(rows) == 2816
    now = dt.datetime(2026, 11, 22, tzinfo=CN_TZ)
    pairs = []
    for row in rows:
        posted = parse_datetime(row["posted_at"], now=now)
        replied = parse_datetime(row["replied_at"], now=now)
        if posted is not None and replied is not None:
            pairs.append((posted.timestamp(), replied.timestamp()))
    assert len(pairs) >= 2800  # all but a handful of odd dates parse

    lat = latency(pairs)
    # The README: median about 11 days, some over 90 days, the longest over 3 years.
    assert 9 * DAY <= lat.p50 <= 13 * DAY
    assert lat.p90 > 30 * DAY
    assert lat.longest > 3 * 365 * DAY

    spec = BoardSpec()  # the shipped defaults
    report = detect(
        [row["reply"] for row in rows],
        phrases=spec.boilerplate_phrases,
        forward_words=spec.forward_words,
        threshold=spec.near_duplicate_threshold,
        min_substance=spec.min_substance_chars,
        short_reply=spec.short_reply_chars,
        owners=[row["message_id"] for row in rows],
        topics=[row["title"] for row in rows],
    )
    print(
        f"real board: {len(pairs)} replies, latency median {lat.p50 / DAY:.1f} d, "
        f"p90 {lat.p90 / DAY:.1f} d; boilerplate {len(report.flagged)}/{report.replies} "
        f"= {report.ratio:.1%} ({len(report.duplicates)} near-duplicates, "
        f"{len(report.acknowledgements)} acknowledge or forward only)"
    )
    # Many replies are near-identical acknowledgements and about 200 are under 40
    # characters, but most are real answers: the share must reflect both.
    assert 0.08 <= report.ratio <= 0.25
    assert len(report.acknowledgements) >= 150
    assert len(report.duplicates) >= 100
    # Acknowledge-or-forward replies are short; long replies are only ever flagged as
    # near-duplicates of another message's reply.
    assert all(len(normalise(rows[i]["reply"])) <= 60 for i in report.acknowledgements)


def test_one_answer_to_the_same_question_asked_twice_is_not_boilerplate() -> None:
    answer = SUBSTANTIVE[2] * 2
    titles = ["建议增开12路公交夜班车", "12路公交能否增开夜班车", "小区垃圾清运不及时"]
    same_topic = near_duplicates([answer, answer], 0.8, ["a", "b"], titles[:2])
    other_topic = near_duplicates([answer, answer], 0.8, ["a", "c"], [titles[0], titles[2]])
    assert (same_topic, other_topic) == (frozenset(), {0, 1})
