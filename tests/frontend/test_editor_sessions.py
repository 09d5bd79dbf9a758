"""Two tabs of one annotator on the same task, in Chromium against the app's server: the edit lock belongs to
one editor session (one tab), so the first tab edits and the second is read-only, says why, cannot save a
change even through the API with its own session id, and sees the first tab's changes live."""

from __future__ import annotations

import pytest

from annotator import keypoints
from tests.frontend import live
from tests.frontend.test_editor import WAIT_MS, position, revision, screen_centre, view_ids, wait_ready, wait_revision

pytestmark = pytest.mark.browser

K = keypoints.index("right_wrist")


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sessions-live")
    info = live.prepare(workdir)
    with live.serve(workdir) as url:
        yield url, info


def _drag(page, view: str, by: tuple[float, float]) -> None:
    x, y = screen_centre(page, view, K)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + by[0], y + by[1], steps=8)
    page.mouse.up()


def test_the_second_tab_of_the_same_annotator_is_read_only(browser, server, artifacts):
    url, info = server
    task_path = f"/tasks/{info['tasks'][1]}/"
    context, first = live.sign_in(browser, url, "ann", info["accounts"]["ann"], task_path)
    wait_ready(first, editable=True)
    first.wait_for_selector(".conn[data-state='connected']", timeout=WAIT_MS)
    second = context.new_page()  # the same browser, the same sign-in: only the tab differs
    second.errors = []
    second.on("pageerror", lambda exc: second.errors.append(str(exc)))
    second.goto(f"{url}{task_path}")
    wait_ready(second, editable=False)
    assert "you are editing this task in another window or tab" in second.inner_text(".banner.readonly")
    second.screenshot(path=str(artifacts / "editor-second-tab.png"))

    views = view_ids(second)
    start = position(second, views[0], K)
    rev0 = revision(second)
    _drag(second, views[0], (30.0, 20.0))
    second.wait_for_timeout(500)
    assert position(second, views[0], K) == start and revision(second) == rev0
    # Even a write made by hand from that tab (its own session id, its session cookie) is refused.
    refused = second.evaluate(
        """async ([path, view, k, rev]) => {
            const { post } = await import('/static/frontend/js/api.js');
            try { await post(path, {view: Number(view), keypoint: k, x: 400, y: 300, base_revision: rev}); return 0; }
            catch (error) { return error.status; }
        }""",
        [f"/api/tasks/{info['tasks'][1]}/corrections/", views[0], K, rev0],
    )
    assert refused == 409

    _drag(first, views[0], (30.0, 20.0))
    wait_revision(first, rev0 + 1)
    moved = position(first, views[0], K)
    second.wait_for_function(
        "([v, k, x]) => Math.abs(Number(document.querySelector("
        "`.view[data-view-id='${v}'] .layer-points circle[data-k='${k}']`).getAttribute('cx')) - x) < 0.01",
        arg=[views[0], K, moved[0]],
        timeout=WAIT_MS,
    )
    assert first.errors == [] and second.errors == []
    context.close()
