"""The reviewer dashboard in Chromium against a real ASGI server: study list, report, review mode, reject.

Set-up (in subprocesses, through the command line, like a person would): the live server's synthetic
rig (tests/frontend/live.py), a frame-mode study of its frames for the second annotator, completed by
simulated annotators. Then a reviewer opens the dashboard, sees the per-part table and histograms,
opens the worst frame in the review mode, rejects it with a comment, and the annotator finds it back
in their queue. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.frontend import live

pytestmark = pytest.mark.browser

WAIT_MS = 20_000
#: The study: every frame of the live rig, all views, corrected by the second annotator.
STUDY = "browser-study"
ANNOTATOR = "ann2"
#: review.js lists this many most-moved keypoints and this many newest writes (TOP_MOVES, HISTORY_ROWS).
REVIEW_TOP_MOVES, REVIEW_HISTORY_ROWS = 30, 300
COMMENT = "the left hand drifted: please check the fingers in camera 2"
COMMAND_TIMEOUT_S = 300


def manage(workdir, *args) -> str:
    result = subprocess.run(
        [live.PYTHON, "manage.py", *args], cwd=live.ROOT, env=live._env(workdir), capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT_S, check=True,
    )  # fmt: skip
    return result.stdout


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("review-live")
    info = live.prepare(workdir)
    manage(workdir, "create_study", "--dataset", "rig", "--items", str(live.FRAMES), "--mode", "frame",
           "--annotators", ANNOTATOR, "--name", STUDY)  # fmt: skip
    manage(workdir, "simulate_annotators", "--study", "1", "--no-progress")
    with live.serve(workdir) as url:
        yield url, info


def test_review_a_study_and_reject_its_worst_frame(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/review/")
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=WAIT_MS)
    assert STUDY in page.inner_text("#study-list")
    page.screenshot(path=str(artifacts / "review-studies.png"), full_page=True)

    page.click(f"#study-list a:has-text('{STUDY}')")
    page.wait_for_selector("#dashboard[data-ready='1'][data-page='study']", timeout=WAIT_MS)
    # The H3WB table: one row per part, numbers in mm and px.
    rows = page.locator("#parts-table tbody tr")
    assert rows.count() == 4
    assert [rows.nth(i).get_attribute("data-part") for i in range(4)] == ["all", "body", "face", "hand"]
    mean_3d = float(page.inner_text("#parts-table tbody tr[data-part=all] td:nth-child(3)"))
    study_id = int(page.url.rstrip("/").split("/")[-1])
    report = page.evaluate(f"() => fetch('/api/studies/{study_id}/report/').then(r => r.json())")
    assert mean_3d == round(report["parts"]["all"]["mean_3d_mm"], 2) and mean_3d > 0
    # The instrument: what the study can say, the annotator model it ran under, the sensitivity table with this
    # study's own annotator outlined (the default: 3 px, x1 COCO-WholeBody spread), the design's bias.
    assert "cannot say how real people would correct" in page.inner_text("#instrument-limits")
    runs = page.locator("#instrument-assumptions tbody tr")
    assert runs.count() == 1 and "perceiving" in runs.first.inner_text()
    page.wait_for_selector("#instrument-sensitivity[data-ready='1']", timeout=WAIT_MS)
    cells = page.locator("#instrument-sensitivity tbody td")
    assert page.locator("#instrument-sensitivity tbody tr").count() == 5 and cells.count() == 25
    own = page.locator("#instrument-sensitivity td.own")
    assert own.count() == 1 and (own.get_attribute("data-threshold"), own.get_attribute("data-spread")) == ("3", "1")
    before = own.inner_text()
    page.select_option("#instrument-sensitivity select[name=part]", "hand")
    assert page.locator("#instrument-sensitivity td.own").inner_text() != before  # another part, other figures
    assert page.locator("#instrument-bias tbody tr").count() == 4
    assert "Frame mode" in page.inner_text("#instrument-bias .bias-note")
    # The histograms are drawn by Chart.js, one chart per part: the report's bins, then one bar for the keypoints
    # past the last edge (the report's overflow count), so every keypoint of the part is in exactly one bar.
    for part in ("all", "body", "face", "hand"):
        bars = page.evaluate(
            "id => window.Chart.getChart(document.getElementById(id)).data.datasets[0].data", f"hist-{part}"
        )
        assert bars == report["histograms"]["counts"][part] + [report["histograms"]["overflow"][part]], part
        assert sum(bars) == report["parts"][part]["n_keypoints"], part
    assert page.locator("#frames-table tbody tr").count() == live.FRAMES
    page.screenshot(path=str(artifacts / "review-report.png"), full_page=True)

    # A click on a histogram filters the frames table, far below the charts, and brings it into view.
    page.locator("#hist-face").scroll_into_view_if_needed()
    x, y = page.evaluate(
        "() => { const c = window.Chart.getChart(document.getElementById('hist-face'));"
        " const bars = c.getDatasetMeta(0).data; const data = c.data.datasets[0].data;"
        " const i = data.indexOf(Math.max(...data)); const r = c.canvas.getBoundingClientRect();"
        " return [r.left + bars[i].x, r.top + (bars[i].y + bars[i].base) / 2]; }"
    )
    page.mouse.click(x, y)
    page.wait_for_function("() => document.querySelector('#frame-filters select[name=part]').value === 'face'")
    page.wait_for_function("() => !document.querySelector('#frames-table').dataset.loading")
    page.wait_for_function(
        "() => { const r = document.querySelector('#frames-table tbody tr').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
        timeout=WAIT_MS,
    )

    # A camera bar filters the frames table.
    page.select_option("#frame-filters select[name=camera]", index=1)
    page.wait_for_function("() => !document.querySelector('#frames-table').dataset.loading")
    assert page.locator("#frames-table tbody tr").count() == live.FRAMES

    # The worst frame, in the review mode.
    worst = page.locator("#frames-table tbody tr").first
    task_id = int(worst.get_attribute("data-task"))
    worst.locator("a").first.click()
    page.wait_for_selector("#review[data-ready='1']", timeout=WAIT_MS)
    assert page.url.startswith(f"{url}/review/tasks/{task_id}/")
    assert page.locator(".view").count() == 4
    # Before and after: the dataset positions and displacement vectors are drawn where keypoints moved; the
    # moved keypoints are corrected ones, and the history lists the task's writes, newest first.
    history = page.evaluate(f"() => fetch('/api/tasks/{task_id}/history/').then(r => r.json())")
    corrected = {row["keypoint"] for row in history}
    assert history and page.locator(".view .layer-base circle.base").count() > 0
    moves = [int(k) for k in page.eval_on_selector_all(".kp-moves li[data-k]", "els => els.map(e => e.dataset.k)")]
    assert 1 <= len(moves) <= REVIEW_TOP_MOVES and set(moves) <= corrected
    assert page.inner_text(".history-count") == f"({len(history)} writes)"
    shown = page.eval_on_selector_all(".history li .rev", "els => els.map(e => e.textContent)")
    newest = sorted((row["revision"] for row in history), reverse=True)[:REVIEW_HISTORY_ROWS]
    assert shown == [f"r{r}" for r in newest]
    page.locator(".kp-moves li[data-k]").first.click()
    page.screenshot(path=str(artifacts / "review-task.png"))

    page.fill("#review-comment", COMMENT)
    page.click(".review-actions button[data-action=reject]")
    page.wait_for_selector(".review-message.ok", timeout=WAIT_MS)
    assert "back in ann2's queue" in page.inner_text(".review-message")
    assert page.inner_text(".task-status") == "rejected"
    page.screenshot(path=str(artifacts / "review-rejected.png"))
    assert page.errors == []
    ctx.close()

    # The annotator: not allowed on the dashboard (the site's 403 page says why), and the task is back in the
    # queue with the comment.
    ctx, ann = live.sign_in(browser, url, ANNOTATOR, info["accounts"][ANNOTATOR], "/review/")
    ann.wait_for_selector(".error-page[data-status='403']", timeout=WAIT_MS)
    assert "reviewers and admins" in ann.inner_text("main")
    ann.click("text=Your tasks")
    ann.wait_for_selector("#task-list td[data-status=rejected]", timeout=WAIT_MS)
    assert COMMENT in ann.inner_text(f'tr.review-comment-row[data-task="{task_id}"]')
    answer = ann.evaluate("() => fetch('/api/tasks/?status=rejected').then(r => r.json())")
    assert [t["id"] for t in answer] == [task_id]
    detail = ann.evaluate(f"() => fetch('/api/tasks/{task_id}/').then(r => r.json())")
    assert detail["review_comment"] == COMMENT
    assert ann.evaluate("() => fetch('/api/studies/').then(r => r.status)") == 403
    ann.screenshot(path=str(artifacts / "review-annotator-queue.png"))
    ctx.close()
