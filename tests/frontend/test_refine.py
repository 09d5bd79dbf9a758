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
        timeout=WAIT_MS,
    )


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
    assert "the refiner works on the face and the hands" in page.inner_text(".banner.notice")
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
