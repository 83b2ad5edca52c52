"""A Redis password never leaves the process: not in config-*.json, not in an error line, whatever
form the --frontier URL gives it in (user info, ?password=, any case, encoded, rediss://, unix://)."""

import asyncio
import contextlib
import json
from urllib.parse import quote

import pytest
import redis
from conftest import run_boxcrawl
from redis_server import RedisServer, free_port

from boxcrawl.frontier.open import check_spec, describe
from boxcrawl.frontier.redis import FrontierUnavailable, RedisFrontier, redact

PW = "Zq7-s3cret-pw"
ODD = "Ab1/Cd2?Ef3#Gh4@Ij5=Kl6&Mn7"  # every character that ends a URL part
PIECES = ("Ab1", "Cd2", "Ef3", "Gh4", "Ij5", "Kl6", "Mn7")

FORMS = [
    f"redis://:{PW}@127.0.0.1:6379/0",
    f"redis://default:{PW}@cache.internal:6379",
    f"redis://cache.internal/0?password={PW}",
    f"redis://cache.internal:6379/0?db=1&password={PW}",
    f"redis://cache.internal:6379/0?socket_timeout=3&PassWord={PW}&db=1",
    f"redis://cache.internal:6379/0?PASSWORD={PW}",
    f"redis://cache.internal:6379/0?pass%77ord={PW}",
    f"redis://cache.internal:6379/0?db=0;password={PW}",
    f"redis://cache.internal:6379/0?password={PW}#frag",
    f"rediss://:{PW}@cache.internal:6380/0",
    f"rediss://alice:{PW}@cache.internal:6380/0?ssl_cert_reqs=none",
    f"rediss://cache.internal:6380/0?password={PW}",
    f"unix:///run/redis/redis.sock?password={PW}",
    f"unix:///run/redis/redis.sock?db=2&password={PW}",
    f"unix://:{PW}@/run/redis/redis.sock",
    f"REDIS://:{PW}@cache.internal:6379/0",
    f"Rediss://cache.internal/0?Password={PW}",
    f"redis://:{PW}@cache.internal:notaport/0",
    f"redis://:{PW}@[::1]:6379/0",
    f"redis://:{PW}@[::1/0",
    f"redis://:{PW}@",
    f"redis://:{PW}",
]


@pytest.mark.parametrize("url", FORMS)
def test_redact_removes_the_password_in_every_form(url):
    shown = redact(url)
    assert PW not in shown and "s3cret" not in shown, shown
    assert "***" in shown
    assert describe(url) == shown


@pytest.mark.parametrize("url", FORMS)
def test_scrub_removes_the_url_and_its_password_from_any_text(url):
    from boxcrawl.frontier.redis import scrub

    text = scrub(f"could not use {url}: password {PW} refused", url)
    assert PW not in text and "refused" in text


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{quote(ODD, safe='')}@cache.internal:6379/0",
        f"redis://:{ODD}@cache.internal:6379/0",
        f"redis://cache.internal:6379/0?password={quote(ODD, safe='')}",
        f"redis://cache.internal:6379/0?password={ODD}",
        f"unix:///run/redis.sock?password={ODD}",
        f"redis://user:{ODD}@cache.internal?db=1&password={ODD}",
    ],
)
def test_redact_removes_encoded_passwords_and_passwords_with_url_characters(url):
    shown = redact(url)
    assert not any(p in shown for p in PIECES), shown


@pytest.mark.parametrize(
    "url, shown",
    [
        (f"redis://:{PW}@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        (f"redis://alice:{PW}@cache.internal", "redis://alice:***@cache.internal"),
        (
            f"redis://cache.internal:6379/0?db=1&password={PW}&socket_timeout=3",
            "redis://cache.internal:6379/0?db=1&password=***&socket_timeout=3",
        ),
        (f"unix:///run/redis.sock?password={PW}", "unix:///run/redis.sock?password=***"),
        ("redis://cache.internal:6379/0?db=1", "redis://cache.internal:6379/0?db=1"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
        ("redis://alice@cache.internal/0", "redis://alice@cache.internal/0"),
    ],
)
def test_redact_keeps_what_is_not_secret(url, shown):
    assert redact(url) == shown


def test_describe_and_check_spec_never_echo_a_password():
    assert describe("sqlite") == "sqlite"
    with pytest.raises(FrontierUnavailable) as err:
        check_spec(f"REDIS://:{PW}@cache.internal/0")  # not a scheme we take: the message shows it
    assert PW not in str(err.value)
    with pytest.raises(FrontierUnavailable) as err:
        check_spec(f"redis:/cache.internal/0?password={PW}")
    assert PW not in str(err.value)


# -- error lines of the CLI ---------------------------------------------------------------------------


def _closed_port() -> int:
    return free_port()


@pytest.mark.parametrize(
    "template",
    [
        "redis://127.0.0.1:{port}/0?password={pw}",
        "redis://127.0.0.1:{port}/0?db=0&password={pw}",
        "redis://:{pw}@127.0.0.1:{port}/0",
        "redis://127.0.0.1:{port}/0?foo=1&password={pw}",  # an option redis-py does not know
        "redis://127.0.0.1:{port}/0?PassWord={pw}",
        "redis://:{pw}@127.0.0.1:notaport/0",
        "unix:///nonexistent/redis.sock?password={pw}",
        "REDIS://:{pw}@127.0.0.1:{port}/0",
    ],
)
def test_the_cli_error_line_for_an_unusable_redis_has_no_password(tmp_path, template):
    url = template.format(port=_closed_port(), pw=PW)
    for args in (["status", "--frontier", url], ["worker", "--out", tmp_path / "out", "--frontier", url]):
        proc = run_boxcrawl(*args, check=False, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert PW not in proc.stderr and PW not in proc.stdout, proc.stderr
        assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("config*.json"))


# -- against a real redis-server with a password --------------------------------------------------------


@pytest.fixture(scope="module")
def locked_redis(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis-pw"), password=PW) as server:
        yield server


def _forms(server) -> list[str]:
    host = f"127.0.0.1:{server.port}"
    return [
        f"redis://:{PW}@{host}/0",
        f"redis://default:{PW}@{host}/0",
        f"redis://{host}/0?password={PW}",
        f"redis://{host}/0?db=0&password={quote(PW)}",
    ]


def test_every_form_authenticates_and_a_wrong_password_is_named_without_it(locked_redis):
    for url in _forms(locked_redis):
        frontier = RedisFrontier(url)
        frontier.close()
    wrong = f"redis://127.0.0.1:{locked_redis.port}/0?password=not-{PW}"
    with pytest.raises(FrontierUnavailable) as err:
        RedisFrontier(wrong)
    assert "refused the password" in str(err.value) and PW not in str(err.value)
    with pytest.raises(FrontierUnavailable) as err:
        RedisFrontier(f"redis://127.0.0.1:{locked_redis.port}/0")
    assert "needs a password" in str(err.value)


class _NoBrowser:
    """Stands in for the browser pool: the frontier is empty, so no page is ever rendered."""

    def __init__(self, *args, **kwargs):
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


@pytest.mark.parametrize("form", range(4))
def test_the_config_json_a_worker_writes_has_no_password(tmp_path, locked_redis, monkeypatch, form):
    import boxcrawl.crawl as crawl_module
    from boxcrawl.commands import build_parser
    from boxcrawl.commands.options import crawl_config
    from boxcrawl.optout.policy import OptOutConfig

    url = _forms(locked_redis)[form]
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    out = tmp_path / "out"
    args = build_parser().parse_args(["worker", "--out", str(out), "--frontier", url, "--worker-id", "w1", "--quiet"])
    # a worker takes its opt-out settings from the crawl's; this one's say: no robots.txt to fetch
    cfg = crawl_config(args, follow_links=True).with_opt_out(OptOutConfig(ignore_robots=True))
    monkeypatch.setattr(crawl_module, "BrowserPool", _NoBrowser)
    asyncio.run(crawl_module.Crawler(cfg, []).run())
    written = out / "config-w1.json"
    text = written.read_text()
    assert PW not in text and quote(PW) not in text
    doc = json.loads(text)
    assert "***" in doc["frontier"] and str(locked_redis.port) in doc["frontier"]
    for path in out.rglob("*"):
        if path.is_file():
            with contextlib.suppress(OSError):
                assert PW.encode() not in path.read_bytes(), path
