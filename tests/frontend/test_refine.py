"""Refiner suggestions in the editor, in Chromium against a real ASGI server (daphne) and the shipped checkpoints.

An annotator focuses the face, presses ``g``, sees violet suggestion crosses in the active view, accepts one
by clicking it and the rest with Enter; the corrections are stored with source "model", and the reviewer's
history of the task says "model-assisted". Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest

from tests.frontend import live
from tests.frontend.test_editor import WAIT_MS, view_ids, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("refine-live")
    info = live.prepare(workdir)
    with live.serve(workdir) as url:
        yield url, info


def wait_settled(page) -> None:
    page.wait_for_function(
        "() => window.editor.state.pending.length === 0 && "
        "document.querySelector('.status-line').dataset.kind === 'saved'",
        timeout=3 * WAIT_MS,  # a write waits on the server: on a loaded 2-core machine that can take seconds
    )


def set_hide_under(page, px: float) -> None:
    """Type the panel's "hide moves under" distance, then leave the field (keys go to the editor again)."""
    page.fill(".suggestions-hide", str(px))
    page.evaluate("document.activeElement.blur()")
    page.wait_for_function("px => window.editor.state.suggestionHidePx === px", arg=float(px), timeout=WAIT_MS)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # drawn


def test_refine_face_accept_one_then_all(browser, server, artifacts):
    url, info = server
    task_id = info["tasks"][0]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    views = view_ids(page)
    page.keyboard.press("f")
    page.wait_for_timeout(100)
    page.keyboard.press("g")
    crosses = page.locator(f'.view[data-view-id="{views[0]}"] .layer-suggestions g.suggestion')
    crosses.first.wait_for(timeout=WAIT_MS)
    set_hide_under(page, 0)  # show every suggestion, however little it moves its point
    n = crosses.count()
    assert n == len(page.evaluate("window.editor.state.layout.part_of.filter(p => p === 'face')"))
    for other in views[1:]:
        assert page.locator(f'.view[data-view-id="{other}"] .layer-suggestions g.suggestion').count() == 0
    box = page.locator(".suggestions-box")
    assert box.is_visible() and "face.pt" in box.inner_text()
    page.screenshot(path=str(artifacts / "refine-suggestions.png"))

    # Accept one by clicking its cross: one model-assisted correction, one cross fewer.
    k = int(crosses.nth(n // 2).get_attribute("data-k"))
    target = page.evaluate("k => window.editor.state.suggestions.points[k]", k)
    bbox = page.locator(f'.view[data-view-id="{views[0]}"] g.suggestion[data-k="{k}"]').bounding_box()
    page.mouse.click(bbox["x"] + bbox["width"] / 2, bbox["y"] + bbox["height"] / 2)
    wait_settled(page)
    assert crosses.count() == n - 1
    drawn = page.evaluate(f"window.editor.state.views.find(v => String(v.id) === '{views[0]}').annotated[{k}]")
    assert drawn == pytest.approx(target)

    # Accept the rest with Enter; the suggestions go away and every write is saved.
    page.keyboard.press("Enter")
    wait_settled(page)
    assert crosses.count() == 0 and not box.is_visible()
    page.screenshot(path=str(artifacts / "refine-accepted.png"))

    history = page.request.get(f"{url}/api/tasks/{task_id}/history/").json()
    assert len(history) >= 2 and {h["source"] for h in history} == {"model"}
    assert history[0]["keypoint"] == k

    # Esc ignores a new set of suggestions without writing anything.
    page.keyboard.press("g")
    crosses.first.wait_for(timeout=WAIT_MS)
    page.keyboard.press("Escape")
    assert crosses.count() == 0
    assert len(page.request.get(f"{url}/api/tasks/{task_id}/history/").json()) == len(history)

    # The body has no refiner: a clear notice, no request.
    page.keyboard.press("b")
    page.keyboard.press("g")
    assert "suggestions are for the face, left hand, right hand" in page.inner_text(".banner.notice")
    assert page.errors == []
    ctx.close()

    rev_ctx, rev = live.sign_in(browser, url, "rev", info["accounts"]["rev"], f"/review/tasks/{task_id}/")
    rev.wait_for_selector("#review[data-ready='1']", timeout=WAIT_MS)
    assert rev.locator(".history .model-assisted").count() == len(history)
    assert "model-assisted" in rev.inner_text(".history")
    rev.locator(".history li").first.scroll_into_view_if_needed()
    rev.screenshot(path=str(artifacts / "refine-review-history.png"))
    assert rev.errors == []
    rev_ctx.close()


def flags_of(page, view: str, k: int) -> str:
    return page.evaluate(f"window.editor.state.views.find(v => String(v.id) === '{view}').flags[{k}]")


def drawn(page, view: str, k: int) -> list[float]:
    return page.evaluate(f"(() => {{ const v = window.editor.state.views.find(v => String(v.id) === '{view}');"
                         f" return v.annotated[{k}] ?? v.current[{k}]; }})()")  # fmt: skip


def test_accept_all_keeps_the_annotators_own_corrections_and_flags(browser, server, artifacts):
    """Issue 17, item 5: a drag and an "unsure" flag on face points survive g then Enter; the panel lists how far
    each suggestion moves its point, hides those under a distance, and a kept point is still accepted when picked."""
    url, info = server
    task_id = info["tasks"][1]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    views = view_ids(page)
    page.keyboard.press("f")
    page.wait_for_timeout(100)
    face = page.evaluate("window.editor.state.layout.part_of.flatMap((p, k) => p === 'face' ? [k] : [])")
    dragged, flagged = face[30], face[48]  # the nose tip and a mouth corner

    # A manual drag of the nose tip in the first view.
    dot = page.locator(f'.view[data-view-id="{views[0]}"] .layer-points circle[data-k="{dragged}"]').bounding_box()
    x, y = dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 18, y + 12, steps=6)
    page.mouse.up()
    wait_settled(page)
    dropped = drawn(page, views[0], dragged)
    # An "unsure" flag on the mouth corner in the same view.
    page.click(f'.kp-row[data-k="{flagged}"]')
    page.keyboard.press("u")
    wait_settled(page)
    assert flags_of(page, views[0], flagged) == "unsure"
    history = page.request.get(f"{url}/api/tasks/{task_id}/history/").json()

    page.keyboard.press("g")
    rows = page.locator(".suggestions-box .suggestion-row")
    rows.first.wait_for(timeout=WAIT_MS)
    box = page.locator(".suggestions-box")
    kept = page.locator(".suggestions-box .suggestion-row.kept")
    assert kept.count() == 2
    assert "you corrected it here" in page.inner_text(f'.suggestion-row[data-k="{dragged}"]')
    assert "you flagged it unsure here" in page.inner_text(f'.suggestion-row[data-k="{flagged}"]')
    for row in rows.all()[:5]:
        assert row.inner_text().split("\n")[1].endswith(" px")  # how far it moves its point
    # Suggestions moving their point less than the distance are hidden, in the list and over the image.
    set_hide_under(page, 0)
    all_rows = rows.count()
    set_hide_under(page, 2.5)
    shown = rows.count()
    moves = page.evaluate("window.editor.state.suggestions && Object.keys(window.editor.state.suggestions.points)")
    assert shown < all_rows and len(moves) == all_rows
    crosses = page.locator(f'.view[data-view-id="{views[0]}"] .layer-suggestions g.suggestion')
    assert crosses.count() == shown and "moving less than 2.5 px hidden" in box.inner_text()
    kept_shown = kept.count()
    page.screenshot(path=str(artifacts / "suggestions-kept.png"))

    page.keyboard.press("Enter")
    wait_settled(page)
    # The drag and the flag are untouched; their suggestions stay, dashed, for an explicit pick.
    assert drawn(page, views[0], dragged) == pytest.approx(dropped)
    assert flags_of(page, views[0], flagged) == "unsure"
    after = page.request.get(f"{url}/api/tasks/{task_id}/history/").json()
    written = after[len(history) :]
    assert written and {h["source"] for h in written} == {"model"}
    assert not {dragged, flagged} & {h["keypoint"] for h in written}
    assert len(written) == shown - kept_shown  # every shown suggestion but the kept ones; none of the hidden
    set_hide_under(page, 0)
    assert page.locator(f'.view[data-view-id="{views[0]}"] g.suggestion.kept').count() == 2 and box.is_visible()
    assert rows.count() == 2

    # Picking the kept nose tip explicitly accepts it.
    target = page.evaluate(f"window.editor.state.suggestions.points[{dragged}]")
    page.click(f'.suggestion-row[data-k="{dragged}"]')
    wait_settled(page)
    assert drawn(page, views[0], dragged) == pytest.approx(target)
    last = page.request.get(f"{url}/api/tasks/{task_id}/history/").json()[-1]
    assert (last["keypoint"], last["source"]) == (dragged, "model")
    page.keyboard.press("Escape")
    assert page.errors == []
    ctx.close()
