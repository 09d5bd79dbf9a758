"""The editor as annotators live it all day, in Chromium against daphne: what each test here guards broke once.

- The shortcuts dialog owns the keyboard: Escape closes it, no key reaches the views behind it.
- Undo and redo are disabled while there is nothing to undo or redo (no request, no 400, no red banner).
- The views are drawn for the size they have: a layout change after the first draw (a banner, the toolbar
  wrapping) never leaves the markers and the hit test disagreeing (the race behind the flaky browser tests).
- Banners float over the views (they never move them) and notices go away.
- A part focus zooms until the face's points are FOCUS_SPACING_PX apart; parts can be hidden; the skeleton's
  opacity is set; face points are named by region.
- After a single-view drag, "v" jumps to the next view that disagrees and centres the keypoint there.
- Submitting asks in the page (saves and the live connection go on meanwhile) and then offers the next task.
"""

from __future__ import annotations

import math
import statistics

import pytest

from annotator import keypoints
from tests.frontend import live
from tests.frontend.test_editor import WAIT_MS, marker, revision, screen_centre, view_ids, wait_ready, wait_revision

pytestmark = pytest.mark.browser

#: Screen px the face's neighbouring markers must be apart in face focus (geometry.js FOCUS_SPACING_PX).
FACE_SPACING_PX = 10
#: Screen radius (stroke included) under which a dense part's markers are dots, not discs.
MAX_DENSE_DOT_PX = 2.0


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("editor-workflow-live")
    info = live.prepare(workdir)
    with live.serve(workdir) as url:
        yield url, info


def open_task(browser, server, index: int):
    url, info = server
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{info['tasks'][index]}/")
    wait_ready(page, editable=True)
    return ctx, page


def drag(page, view: str, k: int, by=(30.0, 20.0)) -> None:
    x, y = screen_centre(page, view, k)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + by[0], y + by[1], steps=8)
    page.mouse.up()


def views_box(page) -> list[dict]:
    return page.eval_on_selector_all(".view", "els => els.map(e => { const r = e.getBoundingClientRect();"
                                               " return {x: r.x, y: r.y, w: r.width, h: r.height}; })")  # fmt: skip


def test_the_shortcuts_dialog_owns_the_keyboard_and_undo_redo_follow_the_stacks(browser, server, artifacts):
    ctx, page = open_task(browser, server, 0)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    bad = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    views = view_ids(page)
    k = keypoints.index("left_elbow")

    # Nothing to undo or redo yet: both buttons are off, and the keys send nothing.
    assert page.is_disabled("[data-action=undo]") and page.is_disabled("[data-action=redo]")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_timeout(300)
    assert posts == [] and page.is_hidden(".banner.notice")

    rev0 = revision(page)
    drag(page, views[0], k)
    wait_revision(page, rev0 + 1)
    assert page.is_enabled("[data-action=undo]") and page.is_disabled("[data-action=redo]")

    # The dialog is open: keys that would enlarge a view, undo or submit do nothing behind it.
    page.keyboard.press("?")
    page.wait_for_selector("dialog.help[open]")
    page.screenshot(path=str(artifacts / "editor-shortcuts.png"))
    for key in ("2", "Control+z", "Control+Enter", "f", "0"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert page.evaluate("window.editor.state.enlarged") is None
    assert page.evaluate("window.editor.state.focus") == "body"
    assert revision(page) == rev0 + 1 and page.evaluate("window.editor.state.pending.length") == 0
    assert not page.evaluate("document.querySelector('dialog.confirm-submit').open")
    # Escape closes it; then the keys work again.
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('dialog.help').open")
    page.keyboard.press("Control+z")
    wait_revision(page, rev0 + 2)
    assert page.is_disabled("[data-action=undo]") and page.is_enabled("[data-action=redo]")
    page.click("[data-action=redo]")
    wait_revision(page, rev0 + 3)
    assert page.is_enabled("[data-action=undo]") and page.is_disabled("[data-action=redo]")
    # After a reload the server's stacks say the same.
    page.reload()
    wait_ready(page, editable=True)
    assert page.is_enabled("[data-action=undo]") and page.is_disabled("[data-action=redo]")
    assert bad == [] and page.errors == []
    ctx.close()


def test_markers_follow_the_views_size_after_the_first_draw(browser, server):
    """Change the views' size without a window resize (as a banner or a wrapping toolbar did), then point at
    markers: the keypoint under the pointer is the one named, every time."""
    ctx, page = open_task(browser, server, 1)
    views = view_ids(page)
    page.evaluate("document.querySelector('.toolbar').style.paddingBottom = '90px'")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    for k in (keypoints.LEFT_WRIST, keypoints.LEFT_HIP, keypoints.index("right_knee")):
        x, y = screen_centre(page, views[0], k)
        page.mouse.move(x, y)
        page.wait_for_function("k => window.editor.state.hover?.k === k", arg=k, timeout=WAIT_MS)
        assert page.inner_text(f'.view[data-view-id="{views[0]}"] .tooltip').startswith(f"{k} ")
    assert page.errors == []
    ctx.close()


def test_banners_float_and_notices_go_away(browser, server):
    ctx, page = open_task(browser, server, 1)
    before = views_box(page)
    notify = "([ms, text]) => { const e = window.editor; e.noticeMs = ms; e.state.notice = text; e.render(); }"
    page.evaluate(notify, [400, "a notice"])
    page.wait_for_selector(".banner.notice:not([hidden])")
    assert views_box(page) == before, "a banner moved the views"
    page.wait_for_selector(".banner.notice[hidden]", state="attached", timeout=WAIT_MS)
    page.evaluate(notify, [60_000, "another"])
    page.click(".banner.notice .close")
    page.wait_for_selector(".banner.notice[hidden]", state="attached")
    assert views_box(page) == before
    ctx.close()


def _screen_spacing(page, view: str, members: range) -> float:
    centres = []
    for k in members:
        box = marker(page, view, k).bounding_box()
        if box:
            centres.append((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2))
    nearest = [min(math.dist(p, q) for q in centres if q is not p) for p in centres]
    return statistics.median(nearest)


def test_face_focus_parts_shown_opacity_and_names(browser, server, artifacts):
    ctx, page = open_task(browser, server, 1)
    views = view_ids(page)
    face = keypoints.PART_SLICES["face"]
    members = range(face.start, face.stop)
    # Whole images and body focus: the face's points lie a pixel or two apart on screen, so its markers shrink to
    # dots (radius with the stroke under MAX_DENSE_DOT_PX) instead of 5 px discs that merge into a blob; body
    # markers keep their size.
    for key in ("0", "b"):
        page.keyboard.press(key)
        page.wait_for_timeout(100)
        face_r = marker(page, views[0], face.start + 8).bounding_box()["width"] / 2
        body_r = marker(page, views[0], keypoints.LEFT_WRIST).bounding_box()["width"] / 2
        assert face_r < MAX_DENSE_DOT_PX and body_r >= 4, (key, face_r, body_r)
    page.keyboard.press("f")
    page.wait_for_timeout(200)
    for view in views:
        assert _screen_spacing(page, view, members) >= FACE_SPACING_PX - 0.5
    page.screenshot(path=str(artifacts / "editor-face-focus.png"))
    # Face points are named by region in the list and the tooltip.
    rows = page.locator(".kp-list .kp-row .name")
    assert rows.nth(0).inner_text() == "jaw 1" and "right eye 1" in page.inner_text(".kp-list")
    assert page.locator(".kp-list .kp-group").count() == len(keypoints.FACE_REGIONS)

    # Hide the face: its markers go, and it cannot be grabbed; show it again.
    page.click('.show-part[data-part="face"]')
    assert marker(page, views[0], face.start).count() == 0
    page.click('.show-part[data-part="face"]')
    assert marker(page, views[0], face.start).count() == 1
    # The skeleton's opacity follows the slider.
    page.fill("#opacity", "40")
    page.dispatch_event("#opacity", "input")
    page.wait_for_timeout(100)
    opacity = page.evaluate("getComputedStyle(document.querySelector('.view .layer-points')).opacity")
    assert float(opacity) == pytest.approx(0.4)
    assert page.errors == []
    ctx.close()


def test_correct_this_point_in_the_next_view(browser, server, artifacts):
    ctx, page = open_task(browser, server, 2)
    views = view_ids(page)
    k = keypoints.LEFT_WRIST
    rev0 = revision(page)
    drag(page, views[0], k, by=(45.0, 30.0))
    wait_revision(page, rev0 + 1)
    page.wait_for_selector(".next-view:not([hidden])", timeout=WAIT_MS)
    flagged = page.evaluate(f"window.editor.state.flagged[{k}]")
    assert flagged, "a 45 px single-view drag leaves other views disagreeing"
    page.keyboard.press("v")
    active = str(page.evaluate("window.editor.active"))
    assert active in flagged and active != views[0]
    # The keypoint is centred in that view, zoomed in.
    zoom = page.evaluate("v => window.editor.state.zoom[v]", active)
    x, y = page.evaluate(f"v => window.editor.view(v).current[{k}]", active)
    assert zoom["k"] > 1.5 and (zoom["cx"], zoom["cy"]) == pytest.approx((x, y))
    assert page.locator(f'.view.active[data-view-id="{active}"]').count() == 1
    page.screenshot(path=str(artifacts / "editor-next-view.png"))
    # Correct it there: the view is no longer offered.
    drag(page, active, k, by=(6.0, 4.0))
    wait_revision(page, rev0 + 2)
    assert page.evaluate(f"v => window.editor.view(v).corrected[{k}]", active)
    nxt = page.evaluate(f"() => window.editor.state.flagged[{k}].filter(v => !window.editor.view(v).corrected[{k}])")
    assert active not in nxt
    assert page.errors == []
    ctx.close()


def test_submit_asks_in_the_page_and_offers_the_next_task(browser, server, artifacts):
    url, info = server
    ctx, page = open_task(browser, server, 3)
    views = view_ids(page)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # A save still on its way when the question opens goes through while it is open (nothing blocks).
    held = []
    page.route("**/corrections/", lambda route: held.append(route))
    rev0 = revision(page)
    drag(page, views[1], keypoints.index("right_ankle"))
    page.wait_for_function("window.editor.state.pending.length === 1")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("dialog.confirm-submit[open]")
    assert "still being saved" in page.inner_text("dialog.confirm-submit")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    wait_revision(page, rev0 + 1)
    page.unroute("**/corrections/")
    page.screenshot(path=str(artifacts / "editor-confirm-submit.png"))
    assert page.get_attribute("#editor", "data-status") != "submitted"
    page.click("dialog.confirm-submit button[value=submit]")
    page.wait_for_selector("#editor[data-status='submitted']", timeout=WAIT_MS)
    page.wait_for_selector("[data-action=next-task]:not([hidden])")
    page.screenshot(path=str(artifacts / "editor-submitted-next.png"))
    page.click("[data-action=next-task]")
    page.wait_for_url(lambda u: "/tasks/" in u and not u.endswith(f"/tasks/{info['tasks'][3]}/"), timeout=WAIT_MS)
    wait_ready(page, editable=True)
    assert dialogs == [], "the browser's blocking confirm() came up"
    assert page.errors == []
    ctx.close()
