"""The labeling app in the real Chromium: keyboard labeling, reload, two labelers, kill -9 mid-labeling."""

import json
import re
import time

import pytest
from label_data import make_data_dir
from label_server import LabelServer
from playwright.sync_api import expect, sync_playwright

from boxcrawl.browser.chromium import find_chromium, launch_args

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=find_chromium(), args=launch_args())
        yield b
        b.close()


def open_page(browser, server, hash_index, labeler):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto(f"{server.base}/?labeler={labeler}#{hash_index}")
    expect(page.locator("#list li")).to_have_count(len(json.loads(server.request("/api/entries")[2])["entries"]))
    return page


def rows(page):
    """index -> (good or None, saved flag) as the page shows them."""
    got = page.eval_on_selector_all(
        "#list li", "els => els.map(e => [+e.dataset.index, e.dataset.good ?? null, e.dataset.saved])"
    )
    return {i: (None if g is None else int(g), s == "1") for i, g, s in got}


def test_keyboard_labels_survive_reload_and_reach_the_archive(browser, tmp_path):
    data = make_data_dir(tmp_path / "data", 8)
    with LabelServer(data, None, "--archive-every", "0.5") as server:
        page = open_page(browser, server, 0, "ann")
        expect(page.locator("#position")).to_have_text("1 / 8")
        for key in ["+", "-", "/", "*", "="]:  # good, bad, good w/ mistakes, error, good (other key)
            page.keyboard.type(key)
        expect(page.locator("#save-status")).to_have_text("all labels saved")
        expect(page.locator("#position")).to_have_text("6 / 8")  # auto-advance to the next unrated
        page.keyboard.press("ArrowLeft")
        expect(page.locator("#position")).to_have_text("5 / 8")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("z")  # undo the last label (entry 4) and go back to it
        expect(page.locator("#position")).to_have_text("5 / 8")
        page.goto(f"{server.base}/?labeler=ann#1")  # deep link, then reset entry 1
        expect(page.locator("#position")).to_have_text("2 / 8")
        page.keyboard.press("Backspace")
        page.locator("#auto").uncheck()  # without auto-advance the next entry is i+1
        page.goto(f"{server.base}/?labeler=ann#6")
        page.keyboard.type("]")
        expect(page.locator("#position")).to_have_text("8 / 8")
        expect(page.locator("#save-status")).to_have_text("all labels saved")

        page.reload()
        expect(page.locator("#list li.good")).to_have_count(1)
        shown = rows(page)
        want = {0: 1, 1: None, 2: 2, 3: -1, 4: None, 5: None, 6: 2, 7: None}
        assert {i: g for i, (g, _) in shown.items()} == want
        assert page.locator("#progress-text").inner_text().startswith("4 / 8 labelled")
        expect(page.locator("#orig")).to_have_attribute("src", re.compile(r"images/\d+\.png$"))
        assert page.evaluate("document.getElementById('orig').naturalWidth") == 320  # the real PNG loaded

        api = server.labels()
        assert {i: e["good"] for i, e in api.items()} == {i: g for i, g in want.items() if g is not None}
        assert all(e["labeler"] == "ann" and e["at"].endswith("Z") for e in api.values())

        deadline = time.monotonic() + 10  # the archiver writes within --archive-every of the last change
        archive = []
        while time.monotonic() < deadline:
            files = sorted((data / "archive").glob("archive-*.json"))
            archive = json.loads(files[-1].read_text()) if files else []
            if {r["index"]: r.get("good") for r in archive} == want:
                break
            time.sleep(0.3)
        assert {r["index"]: r.get("good") for r in archive} == want
        assert all(re.fullmatch(r"archive-[0-9T.-]+Z(-\d+)?\.json", f.name) for f in files)
        page.context.close()


def test_two_labelers_see_each_others_labels(browser, tmp_path):
    data = make_data_dir(tmp_path / "data", 10)
    with LabelServer(data) as server:
        ann = open_page(browser, server, 5, "ann")
        bob = open_page(browser, server, 5, "bob")
        ann.keyboard.type("+")
        # Bob sees Ann's label on entry 5, which he is looking at, within seconds.
        expect(bob.locator('#list li[data-index="5"]')).to_have_attribute("data-good", "1", timeout=6000)
        expect(bob.locator("#current-label")).to_have_text("good · ann", timeout=6000)
        bob.goto(f"{server.base}/?labeler=bob#7")
        expect(bob.locator("#list li.current")).to_have_attribute("data-index", "7")  # keys work once it shows #7
        bob.keyboard.type("-")
        expect(ann.locator('#list li[data-index="7"]')).to_have_attribute("data-good", "0", timeout=6000)
        # Ann's reset of Bob's label reaches Bob too.
        ann.goto(f"{server.base}/?labeler=ann#7")
        expect(ann.locator("#list li.current")).to_have_attribute("data-index", "7")
        ann.keyboard.press("Backspace")
        expect(bob.locator('#list li[data-index="7"]')).not_to_have_attribute(
            "data-good", re.compile("."), timeout=6000
        )
        assert server.labels()[5]["labeler"] == "ann"
        assert 7 not in server.labels()
        ann.context.close()
        bob.context.close()


def test_kill9_mid_labeling_loses_no_label_shown_as_saved(browser, tmp_path):
    data = make_data_dir(tmp_path / "data", 16)
    server = LabelServer(data).start()
    try:
        page = open_page(browser, server, 0, "ann")
        keys = "+-/+-/+-/+-/"
        for n, key in enumerate(keys):
            if n == 6:
                server.kill9()  # mid-labeling: some labels saved, maybe one in flight
            page.keyboard.type(key)
            page.wait_for_timeout(60)
        page.wait_for_timeout(300)
        shown = rows(page)
        saved = {i: g for i, (g, ok) in shown.items() if g is not None and ok}
        unsaved = {i: g for i, (g, ok) in shown.items() if g is not None and not ok}
        assert len(saved) >= 3 and len(unsaved) >= 5, (saved, unsaved)
        expect(page.locator("#save-status")).to_contain_text("unsaved")

        server = LabelServer(data, server.port).start()  # same port: the open page retries its queue
        on_disk = {i: e["good"] for i, e in server.labels().items()}
        assert all(on_disk.get(i) == g for i, g in saved.items()), (saved, on_disk)
        expect(page.locator("#save-status")).to_have_text("all labels saved", timeout=15000)
        want = {i: {"+": 1, "-": 0, "/": 2}[k] for i, k in enumerate(keys)}
        assert {i: e["good"] for i, e in server.labels().items()} == want
    finally:
        server.stop()
