"""The editor retries a save the server answered 503 ("nothing was saved, try again"), and only that: a
4xx answer is not sent again. Real pointer events against a real ASGI server; the 503 comes from the
network layer (Playwright fulfils the first request), exactly as the server's exception handler words it.
"""

from __future__ import annotations

import json

import pytest

from tests.frontend import live
from tests.frontend.test_editor import DRAGGED, WAIT_MS, revision, screen_centre, view_ids, wait_ready, wait_revision

pytestmark = pytest.mark.browser

UNAVAILABLE = {"message": "the database is unavailable: nothing was saved, try again", "extra": {}}


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("editor-retry-live")
    info = live.prepare(workdir)
    with live.serve(workdir) as url:
        yield url, info


def _drag(page, view: str, k: int, by=(24.0, 16.0)) -> None:
    x, y = screen_centre(page, view, k)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + by[0], y + by[1], steps=8)
    page.mouse.up()


def test_a_503_is_retried_until_saved(browser, server):
    url, info = server
    task_id = info["tasks"][0]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    rev0 = revision(page)
    sent = []

    def unavailable_once(route):
        sent.append(route.request.post_data)
        if len(sent) == 1:
            route.fulfill(status=503, content_type="application/json", body=json.dumps(UNAVAILABLE))
        else:
            route.continue_()

    page.route("**/corrections/", unavailable_once)
    _drag(page, view_ids(page)[0], DRAGGED)
    page.wait_for_selector(".status-line[data-kind='error']", timeout=WAIT_MS)
    assert "nothing was saved" in page.inner_text(".status-line")
    wait_revision(page, rev0 + 1)
    assert len(sent) == 2 and sent[0] == sent[1]  # the same write, sent again
    assert page.evaluate("window.editor.state.pending.length") == 0
    assert page.errors == []
    ctx.close()


def test_a_refusal_is_not_retried(browser, server):
    url, info = server
    task_id = info["tasks"][1]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    sent = []

    def refuse(route):
        sent.append(route.request.post_data)
        route.fulfill(status=400, content_type="application/json",
                      body=json.dumps({"message": "x must lie inside the image", "extra": {"field": "x"}}))  # fmt: skip

    page.route("**/corrections/", refuse)
    _drag(page, view_ids(page)[0], DRAGGED)
    page.wait_for_selector(".status-line[data-kind='error']", timeout=WAIT_MS)
    assert "x must lie inside the image" in page.inner_text(".status-line")
    page.wait_for_timeout(3000)  # longer than the first retry's back-off
    assert len(sent) == 1
    ctx.close()
