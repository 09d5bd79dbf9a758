"""The server restarts while an editor is open: the page reconnects, the change made while the server was
down is kept, retried and saved (checked in the database), and the user is told each step.

The server (``manage.py serve``) is stopped and started again on the same port over the same SQLite file.
"""

from __future__ import annotations

import sqlite3

import pytest

from annotator import keypoints
from tests.frontend import live
from tests.frontend.test_editor import marker, revision, view_ids, wait_ready

pytestmark = pytest.mark.browser

#: Milliseconds to wait for the page to notice the server went away or came back (its backoff is at most 15 s).
RECONNECT_MS = 40_000


def _corrections(workdir, task_id: int) -> list[tuple]:
    conn = sqlite3.connect(workdir / "live.sqlite3")
    try:
        return conn.execute(
            "SELECT revision, keypoint, x, y FROM annotator_correction WHERE task_id = ? ORDER BY revision", (task_id,)
        ).fetchall()
    finally:
        conn.close()


def _centre_or_none(page, view: str, k: int) -> tuple[float, float] | None:
    """``screen_centre``, or None while the marker is not laid out (it is redrawn when the views are fitted).

    One ``bounding_box`` call: the marker can be redrawn between a check and a second call, which then gets None.
    """
    box = marker(page, view, k).bounding_box()
    if box is None:
        return None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _settled_centre(page, view: str, k: int, still_checks: int = 8, tries: int = 100) -> tuple[float, float]:
    """Keypoint k's screen centre once it has stayed put for ``still_checks`` checks 100 ms apart (the views are
    fitted again some time after a banner resizes them, and the knees are a few pixels apart)."""
    last, still = _centre_or_none(page, view, k), 0
    for _ in range(tries):
        page.wait_for_timeout(100)
        now = _centre_or_none(page, view, k)
        still = still + 1 if now is not None and now == last else 0
        if still >= still_checks:
            return now
        last = now
    raise AssertionError(f"keypoint {k} kept moving in view {view}")


def test_a_change_made_while_the_server_restarts_is_saved_after_it(browser, tmp_path_factory, artifacts):
    workdir = tmp_path_factory.mktemp("reconnect-live")
    info = live.prepare(workdir)
    port = live._free_port()
    task_id = info["tasks"][0]
    k = keypoints.index("left_knee")
    with live.serve(workdir, port=port) as url:
        ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
        wait_ready(page, editable=True)
        page.wait_for_selector(".conn[data-state='connected']", timeout=RECONNECT_MS)
        rev0 = revision(page)
        views = view_ids(page)
    # The server is gone: the page says so.
    page.wait_for_selector(".conn[data-state='disconnected']", timeout=RECONNECT_MS)
    assert "connection lost" in page.inner_text(".banner.offline")

    # The banner moves the views and they are fitted again: aim once the marker has stopped moving.
    x, y = _settled_centre(page, views[0], k)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 18, y + 12, steps=6)
    page.mouse.up()
    page.wait_for_selector(".status-line[data-kind='error']", timeout=RECONNECT_MS)
    assert "could not save" in page.inner_text(".status-line")
    assert page.evaluate("window.editor.state.pending.length") == 1
    page.screenshot(path=str(artifacts / "editor-server-down.png"))
    assert _corrections(workdir, task_id) == []

    # Notices stay up a few seconds; the save's retry may come later than that, so record every notice shown.
    page.evaluate(
        """() => {
            const banner = document.querySelector('.banner.notice');
            window.noticesSeen = [];
            new MutationObserver(() => window.noticesSeen.push(banner.innerText)).observe(
                banner, {childList: true, subtree: true, characterData: true, attributes: true});
        }"""
    )
    with live.serve(workdir, port=port):
        page.wait_for_function(
            "r => Number(document.querySelector('#editor').dataset.revision) >= r && "
            "document.querySelector('.status-line').dataset.kind === 'saved'",
            arg=rev0 + 1,
            timeout=RECONNECT_MS,
        )
        assert page.evaluate("window.editor.state.pending.length") == 0
        assert page.inner_text(".status-line").startswith(f"saved (revision {rev0 + 1})")
        # The retried save and the websocket's reconnection race; the page tells of both.
        page.wait_for_selector(".conn[data-state='connected']", timeout=RECONNECT_MS)
        page.wait_for_function(
            "() => window.noticesSeen.some(t => t.includes('the connection is back'))", timeout=RECONNECT_MS
        )
        assert page.is_hidden(".banner.offline")
        page.screenshot(path=str(artifacts / "editor-server-back.png"))
        rows = _corrections(workdir, task_id)
        assert [(r[0], r[1]) for r in rows] == [(rev0 + 1, k)]
        assert page.errors == []
        ctx.close()
