"""The editor on another rig: six cameras of an Anipose-calibrated ring, imported in the generic format
(``manage.py import_dataset``), laid out as a 3 x 2 grid; a keypoint dragged in one view draws its
epipolar curve in the five others and is re-triangulated from all six. The frame page lays out the six
views too. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from annotator import keypoints
from tests.frontend import live
from tests.frontend.test_editor import (
    WAIT_MS,
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

DRAGGED = keypoints.index("left_wrist")


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ring-live")
    info = live.prepare(workdir, rig="ring6")
    with live.serve(workdir) as url:
        yield url, info


def test_six_views_in_a_grid_and_a_correction_from_all_of_them(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{info['tasks'][0]}/")
    wait_ready(page, editable=True)
    views = view_ids(page)
    assert len(views) == 6
    assert page.eval_on_selector_all(".view .cam", "els => els.map(e => e.textContent)") == list("ABCDEF")
    assert page.get_attribute(".views", "style") == "--cols: 3;"
    boxes = [page.locator(f'.view[data-view-id="{v}"] .viewport').bounding_box() for v in views]
    # Three columns, two rows, every view on screen and of one size.
    assert len({round(b["x"]) for b in boxes}) == 3 and len({round(b["y"]) for b in boxes}) == 2
    assert all(
        b["width"] > 350 and b["height"] > 250 and b["y"] + b["height"] <= live.VIEWPORT["height"] for b in boxes
    )
    page.screenshot(path=str(artifacts / "editor-ring6.png"))

    before = positions(page, DRAGGED)
    rev0 = revision(page)
    drag_holding(page, views[0], DRAGGED)
    assert_epipolar_curves(page, views[1:])
    page.screenshot(path=str(artifacts / "editor-ring6-drag.png"))
    page.mouse.up()
    wait_revision(page, rev0 + 1)
    after = positions(page, DRAGGED)
    assert moved(after[views[0]], before[views[0]]) > 5.0
    for v in views[1:]:
        assert moved(after[v], before[v]) > 0.5, f"the re-triangulated point did not move in view {v}"
    # The other views disagree with the dragged one: the panel offers to correct it in the next of them.
    page.wait_for_selector(".next-view:not([hidden])", timeout=WAIT_MS)
    page.keyboard.press("v")
    page.wait_for_timeout(100)
    active = page.evaluate("String(window.editor.active)")
    assert active in views[1:]

    # Keys 1-6 enlarge a view; the same key brings the grid back.
    page.keyboard.press("6")
    page.wait_for_selector(f'.views.has-enlarged .view.enlarged[data-view-id="{views[5]}"]', timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "editor-ring6-enlarged.png"))
    page.keyboard.press("6")
    page.wait_for_selector(".views:not(.has-enlarged)", timeout=WAIT_MS)
    assert page.errors == []
    ctx.close()


def test_the_frame_page_lays_out_six_views(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/")
    frame_id = info["frames"][0]
    page.goto(f"{url}/frames/{frame_id}/")
    page.wait_for_selector("[data-ready='1']", timeout=WAIT_MS)
    assert page.locator(".view").count() == 6
    assert page.get_attribute(".views", "style") == "--cols: 3;"
    page.screenshot(path=str(artifacts / "frame-ring6.png"))
    assert page.errors == []
    ctx.close()
