"""The links check: which links a page has, which of them are dead, and the verdict, over
real sockets against the simulated portal's link pages."""

from __future__ import annotations

import pytest

from probes.config import ChannelConfig, Config
from probes.config.links import LinksSpec
from probes.demo import linkfarm
from probes.demo.truth import codes
from probes.findings.links import LinksFindings
from probes.kinds.links import collect_links
from probes.model import CheckResult, State
from probes.runtime.runner import Runtime, run_channel
from probes.verdict.common import JudgeContext
from probes.verdict.links import reasons
from tests.measurements import measured

PAGE = "http://www.yz.gov.cn/xxgk/index.html"


def test_collects_every_loadable_link_once_and_tells_internal_from_external() -> None:
    html = (
        '<link rel="stylesheet" href="/css/a.css"><link rel="canonical" href="/x">'
        '<script src="//cdn.example.com/j.js"></script>'
        '<a href="a.html">A</a><a href="a.html#p2">A again</a><a href="/files/报告.PDF">PDF</a>'
        '<a href="http://yz.gov.cn/b.html">same site without www</a>'
        '<a href="http://www.yz.gov.cn:8080/c.html">another port</a>'
        '<img src="img/logo.png"><iframe src="https://map.example.com/"></iframe>'
        '<a href="javascript:void(0)">x</a><a href="mailto:a@b.c">m</a><a href="#top">t</a>'
        '<a href="tel:12345">t</a><a href="ftp://x/">f</a>'
    )
    found = [(link.url, link.element, link.internal) for link in collect_links(html, PAGE)]
    assert found == [
        ("http://www.yz.gov.cn/xxgk/a.html", "a", True),
        ("http://www.yz.gov.cn/files/报告.PDF", "attachment", True),
        ("http://yz.gov.cn/b.html", "a", True),
        ("http://www.yz.gov.cn:8080/c.html", "a", False),
        ("http://www.yz.gov.cn/xxgk/img/logo.png", "img", True),
        ("http://cdn.example.com/j.js", "script", False),
        ("https://map.example.com/", "iframe", False),
        ("http://www.yz.gov.cn/css/a.css", "link", True),
    ]


def _findings(checked: int, internal: int, external: int) -> LinksFindings:
    return LinksFindings(
        found=checked, checked=checked, internal_broken=internal, external_broken=external
    )


def links_findings(result: CheckResult) -> LinksFindings:
    assert isinstance(result.findings, LinksFindings)
    return result.findings


@pytest.mark.parametrize(
    ("checked", "internal", "external", "expected"),
    [
        (50, 0, 0, None),
        (50, 1, 0, State.DEGRADED),  # one dead internal link is the site's to fix
        (50, 0, 2, None),  # two dead links to other sites: noted, not a verdict
        (50, 0, 3, State.DEGRADED),
        (50, 4, 4, State.DEGRADED),  # 8 of 50: many, not most
        (10, 3, 2, State.ZOMBIE),  # half the page is dead
        (4, 4, 0, State.DEGRADED),  # all dead, but too few to call the site dead
        (0, 0, 0, None),
    ],
)
def test_links_verdict_thresholds(
    checked: int, internal: int, external: int, expected: State | None
) -> None:
    spec = LinksSpec.for_url(PAGE, {})
    findings = _findings(checked, internal, external)
    result = CheckResult("links", checked > 0 and not findings.broken, 0.0, 0.1, findings=findings)
    channel = ChannelConfig.model_validate(
        {"name": "site", "kind": "website", "owner": "-", "checks": {"links": spec}}
    )
    found = reasons(spec, result, findings, JudgeContext(channel, 0.0))
    assert [(r.code, r.state) for r in found] == (
        [] if expected is None else [("links_broken", expected)]
    )


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(linkfarm.TRUTH))
async def test_link_pages_match_ground_truth(
    name: str, demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel(name)
    assert channel is not None, f"{name} is missing from config/demo.yaml"
    truth = linkfarm.TRUTH[name]

    verdict, (result,) = await run_channel(runtime, channel)

    assert (verdict.state, codes(verdict)) == (truth.state, truth.reasons), verdict.summary
    d = links_findings(result)
    counts = (d.checked, d.broken, d.internal_broken, d.external_broken)
    assert counts == linkfarm.EXPECTED[name], result.evidence
    assert measured(result, "links_checked") == linkfarm.EXPECTED[name][0]
    assert measured(result, "links_broken") == linkfarm.EXPECTED[name][1]


@pytest.mark.integration
async def test_dead_links_are_listed_with_their_status(
    demo_config: Config, runtime: Runtime
) -> None:
    channel = demo_config.channel("demo-links-dead")
    assert channel is not None

    _, (result,) = await run_channel(runtime, channel)

    examples = links_findings(result).examples
    by_path = {e.url.split("/", 3)[-1]: (e.status, e.element) for e in examples}
    assert by_path == {
        "links/page/404.html": (404, "a"),
        "links/page/500.html": (500, "a"),
        "links/img/missing.png": (404, "img"),
        "": (0, "a"),  # http://127.0.0.1:1/: connection refused
    }
    assert any("connect" in line for line in result.evidence)
