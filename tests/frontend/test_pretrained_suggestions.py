"""Suggestions from the pretrained model in the editor, in Chromium against a real ASGI server (daphne).

The rig's ground truth is deleted first, so the dataset looks like real data: no trained refiner fits it, and
``g`` asks the pretrained MediaPipe model by default. The panel names the model and why it was chosen, the
annotator accepts its hand suggestions as model-assisted corrections, and "ask the other model" brings the
trained refiner's answer instead. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.frontend import live
from tests.frontend.test_editor import WAIT_MS, view_ids, wait_ready
from tests.frontend.test_refine import wait_settled

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pretrained-live")
    info = live.prepare(workdir)
    forget_truth = "from annotator.models import Skeleton3D; Skeleton3D.objects.filter(source='ground_truth').delete()"
    subprocess.run([live.PYTHON, "manage.py", "shell", "-c", forget_truth], cwd=live.ROOT, env=live._env(workdir),
                   check=True, timeout=120)  # fmt: skip
    with live.serve(workdir) as url:
        yield url, info


def test_pretrained_model_suggests_by_default_on_real_looking_data(browser, server, artifacts):
    url, info = server
    task_id = info["tasks"][0]
    ctx, page = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(page, editable=True)
    page.keyboard.press("l")
    box = page.locator(".suggestions-box")
    found = None
    for view in view_ids(page):
        corner = page.locator(f'.view[data-view-id="{view}"] .viewport').bounding_box()
        page.mouse.click(corner["x"] + 5, corner["y"] + 5)  # makes the view the active one
        assert page.evaluate("String(window.editor.active)") == view
        page.keyboard.press("g")
        page.wait_for_function("() => document.querySelector('.status-line').dataset.kind !== 'saving'",
                               timeout=WAIT_MS)  # fmt: skip
        if page.evaluate("window.editor.state.suggestions !== null"):
            assert page.evaluate("String(window.editor.state.suggestions.view)") == view
            found = view
            break
        assert "finds no left hand near the drawn one" in page.inner_text(".banner.notice")
    assert found is not None, "the pretrained model found the left hand in no view"
    text = box.inner_text()
    assert "from the pretrained MediaPipe 0.10.14 whole-body" in text and "presence" in text
    assert "default: no trained hand refiner fits rig" in text
    assert page.evaluate("window.editor.state.suggestions.source") == "pretrained"
    assert page.locator(f'.view[data-view-id="{found}"] .layer-suggestions g.suggestion').count() >= 1
    # Every suggestion lands on the drawn hand, not on the other one: it moves its point less than the hand's size.
    size = page.evaluate(
        "v => { const view = window.editor.state.views.find(w => String(w.id) === v);"
        " const ks = window.editor.state.layout.part_of.flatMap((p, k) => p === 'left_hand' ? [k] : []);"
        " const xs = ks.map(k => view.current[k][0]), ys = ks.map(k => view.current[k][1]);"
        " return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)); }",
        found,
    )
    moves = page.evaluate(
        "() => { const s = window.editor.state.suggestions;"
        " const view = window.editor.state.views.find(w => String(w.id) === String(s.view));"
        " return Object.entries(s.points).map(([k, p]) => Math.hypot(p[0] - view.current[k][0],"
        " p[1] - view.current[k][1])); }"
    )
    assert max(moves) < 1.5 * size, (moves, size)
    page.screenshot(path=str(artifacts / "pretrained-suggestions.png"))

    shown = page.locator(".suggestions-box .suggestion-row").count()
    page.keyboard.press("Enter")
    wait_settled(page)
    history = page.request.get(f"{url}/api/tasks/{task_id}/history/").json()
    assert 1 <= len(history) <= shown and {h["source"] for h in history} == {"model"}
    assert {h["view"] for h in history} == {int(found)}

    # The trained refiner is the alternative, on demand.
    page.keyboard.press("g")
    box.wait_for(state="visible", timeout=WAIT_MS)
    page.click('[data-action="suggest-other"]')
    page.wait_for_function("() => window.editor.state.suggestions?.source === 'refiner'", timeout=WAIT_MS)
    assert "trained hand refiner hand.pt" in box.inner_text() and "chosen by the annotator" in box.inner_text()
    page.keyboard.press("Escape")
    assert page.errors == []
    ctx.close()
