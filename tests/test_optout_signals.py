"""The opt-out parsers on the formats as their standards write them (robots.txt groups, X-Robots-Tag
agent prefixes, TDMRep files and precedence, Content-Signal and Content-Usage), and the levels."""

import pytest

from boxcrawl.optout.policy import OptOutConfig, PageCheck, decide, refused_by
from boxcrawl.optout.signals import (
    Malformed,
    RobotsFile,
    ai_crawler_tokens,
    matches,
    parse_tdmrep,
    robots_directives,
    tdm_file_rule,
)

URL = "https://news.example/2026/story.html"


def test_robots_lines_follow_the_group_of_our_token_else_star():
    body = (
        "User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n\n"
        "User-agent: boxcrawl\nUser-agent: otherbot\nContent-Usage: /2026/ train-ai=n\nContent-Usage: train-ai=y\n"
    )
    ours = {str(f) for f in RobotsFile(body, "boxcrawl").findings(URL)}
    assert ours == {"robots.txt: allows boxcrawl", "robots.txt content-usage: train-ai=n"}  # the longest path wins
    star = {str(f) for f in RobotsFile(body, "somebot").findings(URL)}
    assert star == {"robots.txt: allows somebot", "robots.txt content-signal: ai-train=no"}
    elsewhere = {str(f) for f in RobotsFile(body, "boxcrawl").findings("https://news.example/about")}
    assert "robots.txt content-usage: train-ai=y" in elsewhere


def test_ai_crawler_rules_only_when_asked_and_the_list_is_dated():
    date, tokens = ai_crawler_tokens()
    assert date.startswith("20") and {"GPTBot", "CCBot", "Google-Extended"} <= set(tokens)
    body = "User-agent: GPTBot\nDisallow: /\n"
    assert [f.kind for f in RobotsFile(body, "boxcrawl").findings(URL)] == ["note"]
    found = RobotsFile(body, "boxcrawl").findings(URL, tokens)
    assert found[-1].kind == "ai-robots" and found[-1].detail == "disallows it for AI crawlers (GPTBot)"
    # only crawlers the file names count: what `*` closes is a matter for our own token's rules
    star = "User-agent: boxcrawl\nAllow: /\n\nUser-agent: *\nDisallow: /\n"
    assert [f.kind for f in RobotsFile(star, "boxcrawl").findings(URL, tokens)] == ["note"]


@pytest.mark.parametrize(
    "values, token, kinds",
    [
        (["noai"], "boxcrawl", ["noai"]),
        (["noarchive", "noimageai, nosnippet"], "boxcrawl", ["noimageai"]),
        (["googlebot: noai, noindex"], "boxcrawl", []),  # all of it for googlebot
        (["googlebot: noindex, boxcrawl: noai"], "boxcrawl", ["noai"]),
        (
            ["unavailable_after: 25 Jun 2010 15:00:00 PST, noai"],
            "boxcrawl",
            ["noai"],
        ),  # a dated directive, not an agent
        (["max-snippet: 20, none"], "boxcrawl", ["none"]),
        (["BoxCrawl: NoAI"], "boxcrawl", ["noai"]),
    ],
)
def test_x_robots_tag_directives_for_us(values, token, kinds):
    assert [f.detail for f in robots_directives("x-robots-tag", values, token)] == kinds


def test_tdmrep_file_rules_and_what_wins():
    rules, problems = parse_tdmrep(
        '[{"location": "/private/*", "tdm-reservation": 1, "tdm-policy": "https://p.example/policy.json"},'
        ' {"location": "/*.pdf$", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}]'
    )
    assert problems == []
    assert tdm_file_rule(rules, "https://x.example/private/a.html").reservation == 1
    assert tdm_file_rule(rules, "https://x.example/paper.pdf").reservation == 1
    assert tdm_file_rule(rules, "https://x.example/paper.pdf?x=1").reservation == 0  # `$` ends the path
    cfg = OptOutConfig()
    private = tdm_file_rule(rules, "https://x.example/private/a.html")
    assert not PageCheck(cfg, tdm_rule=private).judge({}, []).allowed
    assert PageCheck(cfg, tdm_rule=private).judge({"tdm-reservation": "0"}, []).allowed  # header over file
    assert PageCheck(cfg, tdm_rule=private).judge({}, [("tdm-reservation", "0")]).allowed  # meta over file
    meta_over_header = PageCheck(cfg).judge({"tdm-reservation": "0"}, [("tdm-reservation", "1")])
    assert meta_over_header.text.startswith("refused: meta tdm-reservation")
    assert PageCheck(cfg).judge({"tdm-reservation": "1"}, [("tdm-reservation", "0")]).allowed
    invalid = PageCheck(cfg, tdm_rule=private).judge({"tdm-reservation": "yes"}, [])
    assert invalid.text.startswith("refused: tdmrep.json"), "an invalid header does not lift the file's rule"


@pytest.mark.parametrize("body", ["", "{", '{"location": "/"}', "[" * 100000, "null"])
def test_a_malformed_tdmrep_file_is_an_error_of_its_own(body):
    with pytest.raises(Malformed):
        parse_tdmrep(body)


def test_a_bad_rule_is_skipped_on_its_own():
    rules, problems = parse_tdmrep(
        '[{"tdm-reservation": 1}, {"location": "/a/*", "tdm-reservation": "1"},'
        ' {"location": "/b/*", "tdm-reservation": true}, {"location": "/c/*", "tdm-reservation": 1.0},'
        ' {"location": "/d/*", "tdm-reservation": 2}, 7,'
        ' {"location": "/", "tdm-reservation": 1}]'
    )
    assert [(r.location, r.reservation) for r in rules] == [("/", 1)]
    assert len(problems) == 6 and "rule 2 (/a/*): tdm-reservation '1' is neither 0 nor 1" in problems


@pytest.mark.parametrize(
    "pattern, path, hit",
    [
        ("/", "/anything", True),
        ("/private/*", "/private/a.html", True),
        ("/private/*", "/public/private/a.html", False),
        ("/*.pdf$", "/docs/paper.pdf", True),
        ("/*.pdf$", "/docs/paper.pdf?x=1", False),
        ("/exact$", "/exact", True),
        ("/exact$", "/exactly", False),
        ("/a*b*c", "/axxbyyc/z", True),
        ("/a*b*c", "/axxcyyb", False),
        ("/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "/" + "a" * 5000, False),  # no backtracking blow-up
    ],
)
def test_path_patterns_match_as_robots_txt_does(pattern, path, hit):
    assert matches(pattern, path) is hit


def test_levels_honour_what_their_table_says():
    noindex = robots_directives("x-robots-tag", ["noindex"], "boxcrawl")
    assert decide(noindex, OptOutConfig(level="standard")).allowed
    assert not decide(noindex, OptOutConfig(level="strict")).allowed
    disallowed = RobotsFile("User-agent: *\nDisallow: /\n", "boxcrawl").findings(URL)
    assert not decide(disallowed, OptOutConfig(level="robots-only")).allowed
    ignoring = decide(disallowed, OptOutConfig(ignore_robots=True))
    assert ignoring.allowed and ignoring.signals[0] == "boxcrawl: robots.txt ignored (--ignore-robots)"
    assert (
        OptOutConfig(ignore_robots=True, respect_ai_robots=True).describe()
        == "standard + ai-robots + robots.txt ignored"
    )


def test_refused_by_counts_pages_per_signal_source():
    verdicts = [
        "allowed",
        "refused: x-robots-tag: noai",
        "refused: x-robots-tag: noimageai",
        "refused: tdmrep.json: x",
        None,
    ]
    assert refused_by(verdicts) == {"x-robots-tag": 2, "tdmrep.json": 1}
