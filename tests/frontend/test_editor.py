"""The multi-view editor in Chromium against a real ASGI server (daphne: HTTP + websockets).

Real pointer events throughout (page.mouse): an annotator starts their next task, drags a keypoint,
sees its reprojection move in the other views, undoes, submits; a reviewer watching the same task is
read-only and sees every change live. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from annotator import keypoints
from tests.frontend import live

pytestmark = pytest.mark.browser

#: The keypoint dragged: a wrist, well separated from its neighbours in every view.
DRAGGED = keypoints.index("left_wrist")
#: Mouse displacement of the drag, screen px, in this many steps.
DRAG_BY = (42.0, 28.0)
DRAG_STEPS = 12
#: Milliseconds to wait for a save or a websocket update.
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    """(base URL, info) of a daphne server over a fresh database with the synthetic rig imported."""
    workdir = tmp_path_factory.mktemp("editor-live")
    info = live.prepare(workdir)
    with live.serve(workdir) as url:
        yield url, info


def wait_ready(page, editable: bool) -> None:
    page.wait_for_selector("#editor[data-ready='1']", timeout=WAIT_MS)
    state = ":not(.is-read-only)" if editable else ".is-read-only"
    page.wait_for_selector(f"#editor{state}", timeout=WAIT_MS)


def view_ids(page) -> list[str]:
    return page.eval_on_selector_all(".view", "els => els.map(e => e.dataset.viewId)")


def marker(page, view: str, k: int):
    return page.locator(f'.view[data-view-id="{view}"] .layer-points circle[data-k="{k}"]')


def position(page, view: str, k: int) -> tuple[float, float]:
    """Where keypoint k is drawn in a view, image pixels (the SVG is in image coordinates)."""
    m = marker(page, view, k)
    return float(m.get_attribute("cx")), float(m.get_attribute("cy"))


def positions(page, k: int) -> dict[str, tuple[float, float]]:
    return {v: position(page, v, k) for v in view_ids(page)}


def screen_centre(page, view: str, k: int) -> tuple[float, float]:
    box = marker(page, view, k).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_holding(page, view: str, k: int) -> None:
    """Press on keypoint k in ``view`` and move it by ``DRAG_BY`` screen px in ``DRAG_STEPS`` steps, still holding
    the button (the caller looks at the page mid-drag, then releases with ``page.mouse.up()``)."""
    x, y = screen_centre(page, view, k)
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, DRAG_STEPS + 1):
        page.mouse.move(x + DRAG_BY[0] * i / DRAG_STEPS, y + DRAG_BY[1] * i / DRAG_STEPS)


def assert_epipolar_curves(page, views) -> None:
    """While dragging: the epipolar curve of the dragged point is drawn in each of ``views``."""
    page.wait_for_timeout(100)
    for v in views:
        curve = page.get_attribute(f'.view[data-view-id="{v}"] .epipolar-curve', "points")
        assert len(curve.split()) > 10, f"no epipolar curve in view {v}"


def revision(page) -> int:
    return int(page.get_attribute("#editor", "data-revision"))


def wait_revision(page, at_least: int) -> None:
    page.wait_for_function(
        "r => Number(document.querySelector('#editor').dataset.revision) >= r && "
        "document.querySelector('.status-line').dataset.kind === 'saved'",
        arg=at_least,
        timeout=WAIT_MS,
    )


def wait_position(page, view: str, k: int, xy: tuple[float, float]) -> None:
    """Wait until keypoint k is drawn at xy (image px) in a view."""
    page.wait_for_function(
        "([v, k, x, y]) => {"
        " const c = document.querySelector(`.view[data-view-id='${v}'] .layer-points circle[data-k='${k}']`);"
        " return Math.hypot(Number(c.getAttribute('cx')) - x, Number(c.getAttribute('cy')) - y) < 0.01; }",
        arg=[view, k, *xy],
        timeout=WAIT_MS,
    )


def moved(a, b) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def test_correct_undo_submit_with_a_live_read_only_watcher(browser, server, artifacts):
    url, info = server
    ann_ctx, ann = live.sign_in(browser, url, "ann", info["accounts"]["ann"], "/tasks/")
    ann.wait_for_selector("#start-next")
    ann.screenshot(path=str(artifacts / "editor-queue.png"))
    ann.click("#start-next")
    wait_ready(ann, editable=True)
    editor_path = ann.url.removeprefix(url)
    assert editor_path == f"/tasks/{info['tasks'][0]}/"
    views = view_ids(ann)
    assert len(views) == 4
    # The skeleton is drawn from the server's layout in every view.
    n = len(keypoints.NAMES)
    assert ann.locator(f'.view[data-view-id="{views[0]}"] .layer-points circle').count() == n
    ann.screenshot(path=str(artifacts / "editor-grid.png"))

    rev_ctx, rev = live.sign_in(browser, url, "rev", info["accounts"]["rev"], editor_path)
    wait_ready(rev, editable=False)
    assert "read-only: ann is editing" in rev.inner_text(".banner.readonly")

    before = positions(ann, DRAGGED)
    rev0 = revision(ann)
    drag_holding(ann, views[0], DRAGGED)
    assert_epipolar_curves(ann, views[1:])
    ann.screenshot(path=str(artifacts / "editor-drag.png"))
    ann.mouse.up()
    wait_revision(ann, rev0 + 1)

    after = positions(ann, DRAGGED)
    scale = ann.evaluate(
        "v => { const vp = document.querySelector(`.view[data-view-id='${v}'] .viewport`);"
        " const w = window.editor.view(v); return Math.min(vp.clientWidth / w.width, vp.clientHeight / w.height); }",
        views[0],
    )
    expected = (before[views[0]][0] + DRAG_BY[0] / scale, before[views[0]][1] + DRAG_BY[1] / scale)
    assert moved(after[views[0]], expected) < 1.0, "the dragged keypoint stays where it was dropped"
    for v in views[1:]:
        assert moved(after[v], before[v]) > 0.5, f"the reprojection did not move in view {v}"
    assert ann.locator(f'.view[data-view-id="{views[0]}"] circle.kp.corrected[data-k="{DRAGGED}"]').count() == 1
    assert "px" in ann.inner_text(f'.kp-row[data-k="{DRAGGED}"]'), "the panel shows the residual"
    ann.screenshot(path=str(artifacts / "editor-dropped.png"))

    # The watcher sees the change live, without reloading.
    wait_revision(rev, rev0 + 1)
    wait_position(rev, views[1], DRAGGED, after[views[1]])
    rev.screenshot(path=str(artifacts / "editor-read-only.png"))
    # ...and cannot drag.
    rx, ry = screen_centre(rev, views[2], DRAGGED)
    rev.mouse.move(rx, ry)
    rev.mouse.down()
    rev.mouse.move(rx + 30, ry + 30, steps=5)
    rev.mouse.up()
    rev.wait_for_timeout(300)
    assert revision(rev) == rev0 + 1
    assert moved(position(rev, views[2], DRAGGED), after[views[2]]) < 0.01

    # Focus on a hand: every view zooms to it.
    ann.keyboard.press("l")
    ann.wait_for_timeout(100)
    zooms = ann.evaluate("Object.values(window.editor.state.zoom).map(z => z.k)")
    assert all(k > 2 for k in zooms), zooms
    ann.screenshot(path=str(artifacts / "editor-focus-left-hand.png"))
    ann.keyboard.press("0")

    # Undo restores the keypoint in every view, here and at the watcher's.
    ann.keyboard.press("Control+z")
    wait_revision(ann, rev0 + 2)
    for v, p in positions(ann, DRAGGED).items():
        assert moved(p, before[v]) < 0.01, f"undo did not restore view {v}"
    wait_revision(rev, rev0 + 2)
    wait_position(rev, views[1], DRAGGED, before[views[1]])

    # Submit (Ctrl+Enter, confirmed in the page): the task leaves the editable states, for the watcher too.
    ann.keyboard.press("Control+Enter")
    ann.click("dialog.confirm-submit button[value=submit]")
    ann.wait_for_selector("#editor[data-status='submitted']", timeout=WAIT_MS)
    rev.wait_for_selector("#editor[data-status='submitted']", timeout=WAIT_MS)
    ann.wait_for_selector("#editor.is-read-only", timeout=WAIT_MS)
    ann.screenshot(path=str(artifacts / "editor-submitted.png"))
    assert ann.errors == [] and rev.errors == []
    ann_ctx.close()
    rev_ctx.close()


def test_failed_save_is_retried_and_conflict_refreshes(browser, server, artifacts):
    url, info = server
    task_id = info["tasks"][1]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    views = view_ids(page)
    k = keypoints.index("right_knee")
    rev0 = revision(page)

    # The first attempt to save dies on the network: the status says so, the write stays queued and is
    # sent again, and nothing is lost.
    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/corrections/", flaky)
    x, y = screen_centre(page, views[1], k)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y - 15, steps=6)
    page.mouse.up()
    page.wait_for_selector(".status-line[data-kind='error']", timeout=WAIT_MS)
    assert "could not save" in page.inner_text(".status-line")
    page.screenshot(path=str(artifacts / "editor-save-retry.png"))
    wait_revision(page, rev0 + 1)
    assert page.evaluate("window.editor.state.pending.length") == 0
    page.unroute("**/corrections/")

    # A part marked as not annotatable in one view is saved, drawn greyed there and nowhere else.
    face = keypoints.PART_SLICES["face"].start
    page.click(f'.view[data-view-id="{views[0]}"] .part-toggle[data-part="face"]')
    wait_revision(page, rev0 + 2)
    assert "invalid" in marker(page, views[0], face).get_attribute("class")
    assert "invalid" not in marker(page, views[1], face).get_attribute("class")

    # A view enlarged with its number key, then back to the grid.
    page.keyboard.press("2")
    page.wait_for_selector(f'.view.enlarged[data-view-id="{views[1]}"]')
    assert page.locator(".view:visible").count() == 1
    page.screenshot(path=str(artifacts / "editor-enlarged.png"))
    page.keyboard.press("2")
    page.wait_for_function("document.querySelectorAll('.view.enlarged').length === 0")

    # A 409 (the task changed elsewhere): the state is replaced by the server's and the user is told.
    current = page.evaluate(f"fetch('/api/tasks/{task_id}/').then(r => r.json())")
    body = {"message": "stale revision", "extra": {"current_revision": current["revision"], "state": current}}
    page.route(
        "**/corrections/",
        lambda route: route.fulfill(status=409, content_type="application/json", body=json.dumps(body)),
    )
    x, y = screen_centre(page, views[2], k)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 25, y + 10, steps=6)
    page.mouse.up()
    page.wait_for_selector(".banner.notice:not([hidden])", timeout=WAIT_MS)
    assert "the task changed elsewhere; your view was refreshed" in page.inner_text(".banner.notice")
    assert page.evaluate("window.editor.state.pending.length") == 0
    page.screenshot(path=str(artifacts / "editor-conflict.png"))
    assert page.errors == []
    ctx.close()


def test_editor_page_has_no_hard_coded_layout():
    """The browser gets the layout from the server only: no keypoint count in the front end's files."""
    root = Path(__file__).resolve().parents[2] / "frontend"
    count = str(keypoints.NUM_KEYPOINTS)
    for path in [*root.rglob("*.js"), *root.rglob("*.html"), *root.rglob("*.css")]:
        assert count not in path.read_text(), f"{path} mentions {count}"
