"""`check URL --as KIND -o KEY=VALUE`: values stay strings where the field is a string
(a selector `#list li` is not a YAML comment) and are read as YAML elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from probes.cli.check import _options, one_off_config
from probes.config.board import BoardSpec
from probes.config.freshness import FreshnessSpec

API = ("api.url=http://b.gov.cn/api", "api.items=data", "api.fields.id=tid",
       "api.fields.title=subject", "api.fields.posted=dateline", "api.method=POST")  # fmt: skip


def board(*pairs: str) -> BoardSpec:
    if any(p.startswith("api.") for p in pairs):
        pairs = (*API, *pairs)
    spec = one_off_config("http://b.gov.cn/list", "board", _options(None, None, list(pairs)))
    found = spec.channels[0].checks.board
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("pair", "read", "value"),
    [
        ("item=#list li", lambda s: s.selectors.item, "#list li"),
        ("selectors.item=#list > li", lambda s: s.selectors.item, "#list > li"),
        ("status=on", lambda s: s.selectors.status, "on"),  # not YAML's true
        ("next_page=a:contains(下一页)", lambda s: s.next_page, "a:contains(下一页)"),
        ("id_pattern=[?&]id=(\\d+)", lambda s: s.id_pattern, "[?&]id=(\\d+)"),
        ("max_pages=3", lambda s: s.max_pages, 3),
        ("enabled=false", lambda s: s.enabled, False),
        ("forward_words=[转交, 请咨询]", lambda s: s.forward_words, ["转交", "请咨询"]),
        ("status_words.answered=[已评价]", lambda s: s.status_words.answered, ["已评价"]),
        ("api.form.fid=14", lambda s: s.api.form, {"fid": "14"}),  # a form value is a string
    ],
)
def test_board_options_keep_strings_where_the_field_is_a_string(
    pair: str, read: Any, value: object
) -> None:
    assert read(board(pair)) == value


def test_freshness_column_selector_stays_a_string() -> None:
    config = one_off_config(
        "http://s.gov.cn/news/", "freshness", _options("14d", None, ["item_selector=#news li"])
    )
    spec = config.channels[0].checks.freshness
    assert isinstance(spec, FreshnessSpec)
    assert spec.columns[0].item_selector == "#news li"


def test_an_option_that_is_not_valid_yaml_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="-o max_pages=\\[: not a valid value"):
        board("max_pages=[")
