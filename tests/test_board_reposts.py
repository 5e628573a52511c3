"""Re-posts (`board_unresolved`): an answered message posted again afterwards, by the same
user or saying 再次反映 about the same title; and the rate on the real board
(realdata/board/taidi2020c_replies.csv) as `zombie-probes board reposts` prints it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from probes.boards.reposts import Post, find_reposts
from probes.cli import app

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata" / "board" / "taidi2020c_replies.csv"
DAY = 86400.0
FIRST = Post("1", "反映幸福路路灯长期不亮的问题", 0.0, 5 * DAY, user="u1",
             body="幸福路8号到12号之间的路灯已经一个月不亮了，晚上出行很危险。")  # fmt: skip


@pytest.mark.parametrize(
    ("again", "why"),
    [(Post("2", "反映幸福路路灯长期不亮问题", 9 * DAY, None, user="u1"),
      "same user, near-identical title"),
     (Post("2", "路灯的事", 9 * DAY, None, user="u1", body=FIRST.body + "请尽快处理。"),
      "same user, near-identical text"),
     (Post("2", "再次反映幸福路路灯不亮", 9 * DAY, None, user="u1"),
      "same user complains again about the same topic"),
     (Post("2", "再次反映幸福路路灯长期不亮的问题", 9 * DAY, None),  # a board without users
      "complains again about the same title"),
     (Post("2", "反映幸福路路灯长期不亮的问题", 3 * DAY, None, user="u1"), None),  # unanswered yet
     (Post("2", "反映幸福路路灯长期不亮的问题", 9 * DAY, None, user="u2"), None),  # someone else
     (Post("2", "再次反映人民路噪音扰民", 9 * DAY, None, user="u1"), None),  # another topic
     (Post("2", "反映幸福路路灯长期不亮的问题", 400 * DAY, None, user="u1"), None)],  # a year on
)  # fmt: skip
def test_a_message_posted_again_after_its_answer_is_a_repost(again: Post, why: str | None) -> None:
    found = find_reposts([FIRST, again])
    assert [(r.original.id, r.again.id, r.why) for r in found] == ([("1", "2", why)] if why else [])


def test_rate_on_the_real_board() -> None:
    result = CliRunner().invoke(app, ["board", "reposts", str(REAL), "--show", "1"])
    first, example = result.output.splitlines()
    assert first == ("2816 messages, 2816 answered; 11 answers followed by the same complaint "
                     "again (0.4%); 11 re-posts")  # fmt: skip
    assert "posted again after the answer to" in example
