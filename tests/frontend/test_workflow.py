"""The day around the editor, in Chromium against daphne and a real task worker (db_worker, or rqworker under Redis).

- A reviewer exports a dataset version from the Exports page: the export is listed, followed to "done", and
  both of its files download.
- A reviewer finds a submitted task in the review queue (filtered by annotator), rejects it from its review
  page with a comment; the annotator reads the comment in the task list and in the editor until they submit
  the task again.
- A reviewer creates FBI labelling tasks from the dashboard's form; the annotator finds them in their list.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json

import pytest

from tests.frontend import live
from tests.frontend.test_editor import wait_ready

pytestmark = pytest.mark.browser

WAIT_MS = 20_000
#: An export runs in the worker, which has to start first.
JOB_WAIT_MS = 120_000
COMMENT = "the right knee sits on the thigh in camera 2: move it down onto the joint"


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workflow-live")
    info = live.prepare(workdir)
    with live.worker(workdir), live.serve(workdir) as url:
        yield url, info


def test_export_start_follow_and_download(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/exports/")
    bad = []
    page.on("response", lambda r: bad.append((r.request.method, r.status, r.url)) if r.status >= 400 else None)
    page.wait_for_selector("#export-list[data-ready='1']", state="attached", timeout=WAIT_MS)
    assert page.is_visible("#no-exports")

    # Bad input: the API's message, and nothing is listed.
    page.fill("#export-form input[name=subjects]", "S9")
    page.fill("#export-form input[name=version]", "dataset")
    page.click("#export-form button[type=submit]")
    page.wait_for_selector("#export-message.error", timeout=WAIT_MS)
    assert "S9" in page.inner_text("#export-message")
    assert page.locator("#export-list tbody tr").count() == 0

    page.fill("#export-form input[name=subjects]", "")
    page.select_option("#export-form select[name=format]", "h3wb")
    page.click("#export-form button[type=submit]")
    page.wait_for_selector("#export-message.ok", timeout=WAIT_MS)
    row = page.locator("#export-list tbody tr").first
    row.wait_for(timeout=WAIT_MS)
    page.wait_for_selector("#export-list tbody tr[data-status=done]", timeout=JOB_WAIT_MS)
    page.screenshot(path=str(artifacts / "exports.png"), full_page=True)
    links = page.locator("#export-list tbody tr[data-status=done] a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == ["download", "provenance"]
    data = page.request.get(url + links.nth(0).get_attribute("href"))
    assert data.status == 200
    samples = json.loads(data.body())
    assert len(samples) == 4 * live.FRAMES
    provenance = page.request.get(url + links.nth(1).get_attribute("href"))
    assert provenance.status == 200
    # The one refusal is the export of S9 above; nothing else failed (no 404 list, no /exports/undefined).
    assert [(method, u.removeprefix(url)) for method, _, u in bad] == [("POST", "/api/exports/")]
    assert page.errors == []
    ctx.close()


def test_a_rejection_reaches_the_annotator_until_they_submit_again(browser, server, artifacts):
    url, info = server
    task_id = info["tasks"][0]
    ann_ctx, ann = live.sign_in(browser, url, "ann", info["accounts"]["ann"], f"/tasks/{task_id}/")
    wait_ready(ann, editable=True)
    ann.keyboard.press("Control+Enter")
    ann.click("dialog.confirm-submit button[value=submit]")
    ann.wait_for_selector("#editor[data-status='submitted']", timeout=WAIT_MS)

    rev_ctx, rev = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/review/")
    rev.click("#to-queue")
    rev.wait_for_selector(f'#task-list tr[data-task="{task_id}"]', timeout=WAIT_MS)
    rev.select_option("#task-filters select[name=assignee]", "ann")
    rev.click("#task-filters button[type=submit]")
    rev.wait_for_url("**/review/queue/?*assignee=ann*", timeout=WAIT_MS)
    row = rev.locator(f'#task-list tr[data-task="{task_id}"]')
    assert "ann" in row.inner_text() and "correction" in row.inner_text() and "submitted" in row.inner_text()
    rev.screenshot(path=str(artifacts / "review-queue.png"), full_page=True)
    row.locator("a.review-link").click()
    rev.wait_for_selector("#review[data-ready='1']", timeout=WAIT_MS)
    rev.fill("#review-comment", COMMENT)
    rev.click(".review-actions button[data-action=reject]")
    rev.wait_for_selector(".review-message.ok", timeout=WAIT_MS)

    ann.goto(f"{url}/tasks/")
    note = ann.locator(f'tr.review-comment-row[data-task="{task_id}"]')
    assert COMMENT in note.inner_text() and "rev" in note.inner_text()
    ann.screenshot(path=str(artifacts / "tasks-rejected.png"), full_page=True)
    ann.click(f'#task-list tr[data-task="{task_id}"] a')
    wait_ready(ann, editable=True)
    assert ann.is_visible(".review-note")
    assert COMMENT in ann.inner_text(".review-note .comment") and ann.inner_text(".review-note .reviewer") == "rev"
    ann.screenshot(path=str(artifacts / "editor-rejected.png"))
    # Submitted again: the comment has been dealt with, and goes.
    ann.keyboard.press("Control+Enter")
    ann.click("dialog.confirm-submit button[value=submit]")
    ann.wait_for_selector("#editor[data-status='submitted']", timeout=WAIT_MS)
    ann.wait_for_selector(".review-note", state="hidden")
    ann.goto(f"{url}/tasks/")
    assert ann.locator(f'tr.review-comment-row[data-task="{task_id}"]').count() == 0
    assert ann.errors == [] and rev.errors == []
    ann_ctx.close()
    rev_ctx.close()


def test_fbi_tasks_created_from_the_dashboard(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/review/")
    page.click("#fbi-tasks summary")
    form = page.locator(".fbi-tasks-form")
    form.locator("select[name=dataset]").select_option("rig")
    form.locator("input[name=frames]").fill("2")
    form.locator("input[name=annotators][value=ann2]").check()
    page.screenshot(path=str(artifacts / "review-fbi-tasks-form.png"))
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/review/queue/?kind=fbi*", timeout=WAIT_MS)
    assert "2 FBI tasks (hemlets14 bones) on 2 frames for ann2" in page.inner_text(".messages")
    rows = page.locator("#task-list tbody tr[data-kind=fbi]")
    assert rows.count() == 2
    rows.first.locator("a.review-link").click()
    page.wait_for_selector("#fbi[data-ready='1']", timeout=WAIT_MS)
    assert page.is_visible("[data-review]")
    assert page.errors == []
    ctx.close()

    ctx, ann2 = live.sign_in(browser, url, "ann2", info["accounts"]["ann2"], "/tasks/?kind=fbi")
    assert ann2.locator("#task-list tbody tr[data-kind=fbi]").count() == 2
    ctx.close()
