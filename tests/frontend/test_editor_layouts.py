"""The editor on a dataset of another keypoint layout: the 17 COCO body keypoints of people filmed by the
6-camera Anipose-calibrated ring, imported in the generic format (``manage.py import_dataset``). The editor
draws the 17-keypoint skeleton in all six views with the controls the layout has (a body focus, no face or
hand keys, no part validity, no refiner); a keypoint dragged in one view is saved, re-triangulated from all
six, drawn there, stays after a reload, and is in the database. Screenshots go to test-artifacts/."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from annotator import keypoints
from tests.frontend import live
from tests.frontend.test_editor import (
    assert_epipolar_curves,
    drag_holding,
    moved,
    positions,
    revision,
    view_ids,
    wait_ready,
    wait_revision,
)

pytestmark = pytest.mark.browser

LAYOUT = keypoints.layout_get("coco-17")
DRAGGED = LAYOUT.index("left_wrist")


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ring-coco17-live")
    info = live.prepare(workdir, rig="ring6", layout="coco-17")
    with live.serve(workdir) as url:
        yield url, info, workdir


def _stored(workdir, task_id: int) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """(corrections as (view, keypoint, x, y), current 3D, base 3D) of a task, read from the server's database."""
    with sqlite3.connect(workdir / "live.sqlite3") as db:
        rows = db.execute(
            "SELECT view_id, keypoint, x, y FROM annotator_correction WHERE task_id = ? ORDER BY revision", (task_id,)
        ).fetchall()
        current, base = db.execute(
            "SELECT t.current_keypoints, s.keypoints FROM annotator_task t JOIN annotator_skeleton3d s "
            "ON s.id = t.base_skeleton_id WHERE t.id = ?",
            (task_id,),
        ).fetchone()
    return rows, np.frombuffer(current, "<f8").reshape(-1, 3), np.frombuffer(base, "<f8").reshape(-1, 3)


def test_a_coco17_skeleton_is_drawn_dragged_retriangulated_and_stored(browser, server, artifacts):
    url, info, workdir = server
    task_id = info["tasks"][0]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    views = view_ids(page)
    assert len(views) == 6
    assert page.evaluate("window.editor.state.layout.version") == "coco-17/v1"
    for v in views:
        at = f'.view[data-view-id="{v}"]'
        assert page.locator(f"{at} .layer-points circle[data-k]").count() == LAYOUT.num_keypoints
        assert page.locator(f"{at} .layer-links line.link").count() == len(LAYOUT.links)
    # The controls are the layout's: a body focus and fit, one show toggle, no part validity, no refiner.
    focus = page.eval_on_selector_all(".focus-buttons .focus", "els => els.map(e => e.dataset.focus)")
    assert focus == ["body", ""]
    assert page.eval_on_selector_all(".show-part", "els => els.map(e => e.dataset.part)") == ["body"]
    assert page.locator(".part-toggle").count() == 0
    assert page.locator("[data-action=refine]").count() == 0
    help_text = page.inner_text(".shortcuts")
    assert "face" not in help_text and "hand" not in help_text and "refine" not in help_text
    page.keyboard.press("g")
    page.wait_for_selector(".banner.notice:not([hidden])")
    assert "no refiner for the COCO-17 layout" in page.inner_text(".banner.notice")
    page.click("[data-action=dismiss-notice]")
    page.screenshot(path=str(artifacts / "editor-ring6-coco17.png"))

    rows0, current0, base = _stored(workdir, task_id)
    assert rows0 == [] and base.shape == (17, 3)
    np.testing.assert_array_equal(current0, base)
    before = positions(page, DRAGGED)
    rev0 = revision(page)
    drag_holding(page, views[0], DRAGGED)
    assert_epipolar_curves(page, views[1:])
    page.mouse.up()
    wait_revision(page, rev0 + 1)
    after = positions(page, DRAGGED)
    assert moved(after[views[0]], before[views[0]]) > 5.0
    for v in views[1:]:
        assert moved(after[v], before[v]) > 0.5, f"the re-triangulated point is not drawn moved in view {v}"
    page.screenshot(path=str(artifacts / "editor-ring6-coco17-drag.png"))

    # In the database: one correction of that keypoint in the dragged view, the task's 3D moved there only.
    rows, current, _ = _stored(workdir, task_id)
    assert [(str(v), k) for v, k, _, _ in rows] == [(views[0], DRAGGED)]
    assert moved(rows[0][2:], after[views[0]]) < 1.0
    assert current.shape == (17, 3) and np.linalg.norm(current[DRAGGED] - base[DRAGGED]) > 1.0
    np.testing.assert_array_equal(np.delete(current, DRAGGED, axis=0), np.delete(base, DRAGGED, axis=0))

    # A reload draws the stored correction in all six views.
    page.reload()
    wait_ready(page, editable=True)
    reloaded = positions(page, DRAGGED)
    for v in views:
        assert moved(reloaded[v], after[v]) < 0.05, f"view {v} after a reload"
    assert page.errors == []
    ctx.close()


def test_the_frame_page_and_the_home_page_show_the_datasets_layout(browser, server, artifacts):
    url, info, _ = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/")
    assert "coco-17/v1" in page.inner_text("table.grid")
    assert "COCO-17 (coco-17/v1): 17 keypoints, used by ring6" in page.inner_text("body")
    page.goto(f"{url}/datasets/ring6/")
    assert "COCO-17 (coco-17/v1, 17 keypoints)" in page.inner_text("body")
    page.goto(f"{url}/frames/{info['frames'][0]}/")
    page.wait_for_selector("[data-ready='1']", timeout=10_000)
    assert page.locator(".view").count() == 6
    for v in view_ids(page):
        assert page.locator(f'.view[data-view-id="{v}"] .layer-points circle[data-k]').count() == LAYOUT.num_keypoints
    page.screenshot(path=str(artifacts / "frame-ring6-coco17.png"))
    assert page.errors == []
    ctx.close()


def test_the_review_page_shows_the_17_keypoint_correction(browser, server, artifacts):
    """After the first test's drag: the reviewer sees six views, 17 markers each, and the move of that keypoint."""
    url, info, _ = server
    task_id = info["tasks"][0]
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], f"/review/tasks/{task_id}/")
    page.wait_for_selector("#review[data-ready='1']", timeout=10_000)
    assert page.locator(".view").count() == 6
    for v in view_ids(page):
        assert page.locator(f'.view[data-view-id="{v}"] .layer-points circle[data-k]').count() == LAYOUT.num_keypoints
    moves = [int(k) for k in page.eval_on_selector_all(".kp-moves li[data-k]", "els => els.map(e => e.dataset.k)")]
    assert moves and moves[0] == DRAGGED
    page.screenshot(path=str(artifacts / "review-ring6-coco17.png"))
    assert page.errors == []
    ctx.close()
