"""The original labeling server's protocol (`POST /message`, `GET /getupdates?nextId=`), as its client and
scripts speak it, against the real server process on 127.0.0.1."""

import json

import pytest
from label_data import make_data_dir
from label_server import LabelServer

JSON = {"Content-Type": "application/json"}  # what a script sends; no CSRF token, no Origin, no cookie


@pytest.fixture
def server(tmp_path):
    with LabelServer(make_data_dir(tmp_path / "data", 4)) as s:
        yield s


def message(server, payload, **headers):
    status, _, body = server.request("/message", "POST", json.dumps(payload).encode(), {**JSON, **headers})
    return status, json.loads(body)


def updates(server, next_id):
    status, _, body = server.request(f"/getupdates?nextId={next_id}")
    assert status == 200
    return json.loads(body)["response"]


def test_get_data_update_and_poll_as_the_original_client_does(server):
    status, body = message(server, {"action": "getData"})
    data = body["response"]["data"]
    assert status == 200 and body["response"]["nextId"] == 0
    assert [e["index"] for e in data] == [0, 1, 2, 3] and "good" not in data[2]
    assert data[2]["url"] == "http://127.0.0.1:9/articles/2/page-2.html" and data[2]["screenshot"] == "out/2.png"

    entry = dict(data[2], good=2)  # the client sends the whole entry back with its label
    assert message(server, {"action": "update", "data": entry}) == (200, {"response": "ok"})
    assert server.labels()[2]["good"] == 2 and server.labels()[2]["labeler"] == "message-api"
    polled = updates(server, 0)
    assert polled == {"data": None, "updates": [{"index": 2, "id": 0, "entry": entry}], "nextId": 1}
    assert updates(server, 1) == {"data": None, "updates": None, "nextId": 1}  # nothing new
    ahead = updates(server, 7)  # a client of an earlier database cannot catch up by updates: the whole list
    assert ahead["updates"] is None and ahead["nextId"] == 1 and ahead["data"][2]["good"] == 2

    # a label set in our own UI reaches an original client's poll, and a reset (no `good`) removes it
    assert server.post_label({"index": 0, "good": 0, "labeler": "ann"})[0] == 200
    assert message(server, {"action": "update", "data": dict(data[2])})[0] == 200
    polled = updates(server, 1)
    assert [(u["id"], u["index"], u["entry"].get("good")) for u in polled["updates"]] == [(1, 0, 0), (2, 2, None)]
    assert polled["nextId"] == 3 and 2 not in server.labels()
    assert [e.get("good") for e in message(server, {"action": "getData"})[1]["response"]["data"]] == [
        0,
        None,
        None,
        None,
    ]


def test_a_client_more_than_500_updates_behind_gets_the_whole_list(server):
    _, body = message(server, {"action": "getData"})
    entry = body["response"]["data"][1]
    for i in range(501):
        assert message(server, {"action": "update", "data": dict(entry, good=i % 2)})[0] == 200
    behind = updates(server, 0)
    assert behind["updates"] is None and behind["nextId"] == 501
    assert [e.get("good") for e in behind["data"]] == [None, 0, None, None]
    assert len(updates(server, 1)["updates"]) == 500  # exactly the window: still updates


def test_original_protocol_refusals(server):
    entry = {"url": "http://127.0.0.1:9/articles/1/page-1.html", "good": 1}
    # a browser's cross-site request: its Origin, or its Sec-Fetch-Site when it sends no Origin
    assert message(server, {"action": "update", "data": entry}, Origin="http://evil.test")[0] == 403
    assert message(server, {"action": "update", "data": entry}, **{"Sec-Fetch-Site": "cross-site"})[0] == 403
    status, _, _ = server.request(
        "/message", "POST", json.dumps({"action": "getData"}).encode(), {"Content-Type": "text/plain"}
    )
    assert status == 415  # what a cross-site form could send
    assert message(server, {"action": "delete"})[0] == 400
    assert message(server, {"action": "update", "data": dict(entry, good=7)})[0] == 400
    assert message(server, {"action": "update", "data": dict(entry, url="http://elsewhere.test/")})[0] == 404
    for bad in ("abc", "-1", ""):
        assert server.request(f"/getupdates?nextId={bad}")[0] == 400
    assert server.labels() == {}
