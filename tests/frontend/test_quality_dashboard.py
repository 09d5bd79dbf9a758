"""The review dashboard's "Score quality" in Chromium, against a real ASGI server (daphne) and a real task worker.

The worker is ``manage.py db_worker`` (``rqworker`` under Redis) in its own process: it runs the scoring
job's chunk tasks with the shipped checkpoints. With the in-memory channel layer its progress events cannot
reach daphne's websocket (another process), so the page also polls the job; the bar reaching "done" here is
the worker's real progress either way (with Redis the same events arrive over ws/jobs/). Then the report:
histogram, correlation with the true error, skeletons sorted by score, best K per subject.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.frontend import live

pytestmark = pytest.mark.browser

#: Scoring needs the worker to start, import torch and load both networks: generous.
JOB_WAIT_MS = 120_000
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    """(base URL, info) of daphne plus a task worker (db_worker, or rqworker under Redis) over one fresh database."""
    workdir = tmp_path_factory.mktemp("quality-live")
    info = live.prepare(workdir)
    log = open(workdir / "worker.log", "ab")  # noqa: SIM115 - closed below, after the process
    worker = subprocess.Popen(
        [live.PYTHON, "manage.py", *live.worker_command()],
        cwd=live.ROOT, env=live._env(workdir), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with live.serve(workdir) as url:
            yield url, info, workdir
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def test_score_quality_progress_and_report(browser, server, artifacts):
    url, info, workdir = server
    context = browser.new_context(viewport=live.VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{url}/accounts/login/?next=/review/")
    page.fill("#id_username", "rev")
    page.fill("#id_password", info["accounts"]["rev"])
    page.click("button[type=submit]")
    section = page.locator("#quality-section")
    section.locator(".quality-none").wait_for(timeout=WAIT_MS)
    assert "have not been scored yet" in section.locator(".quality-none").inner_text()
    # Said without asking for a report that does not exist yet: no request of the page failed.
    page.wait_for_load_state("networkidle")
    assert failed == []

    section.locator("button[data-action=score]").click()
    page.wait_for_selector("#quality-progress:not([hidden])", timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "quality-dashboard-running.png"), full_page=True)
    try:
        page.wait_for_selector("#quality-section[data-job-status='done']", timeout=JOB_WAIT_MS)
    except Exception:
        print((workdir / "worker.log").read_text()[-4000:])
        raise
    bar = page.eval_on_selector("#quality-progress", "p => [p.value, p.max]")
    assert bar[0] == bar[1] >= 1
    page.wait_for_selector("#quality-section[data-report='1']", timeout=WAIT_MS)
    summary = section.locator(".quality-summary").inner_text()
    assert f"{live.FRAMES} of {live.FRAMES} dataset skeletons scored" in summary
    # Ground truth is known: the score's rank correlation with the true error over the rig's instants.
    assert section.locator(".quality-correlation").get_attribute("data-known") == "1"
    assert f"over {live.FRAMES} skeletons" in section.locator(".quality-correlation").inner_text()
    assert page.evaluate("window.Chart.getChart(document.getElementById('quality-chart')) !== undefined")
    scores = [float(t) for t in section.locator("#quality-frames tbody td.strong").all_inner_texts()]
    assert len(scores) == live.FRAMES and scores == sorted(scores, reverse=True)
    assert "S1 (" in section.locator("#quality-best").inner_text()
    with page.expect_download() as download:
        section.locator("button[data-action=download-best]").click()
    assert download.value.suggested_filename == "rig-dataset-best-5-per-subject.json"
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "quality-dashboard-done.png"), full_page=True)

    # Every row leads to its frame's page.
    first = section.locator("#quality-frames tbody tr").first
    frame_id = first.get_attribute("data-frame")
    first.locator("a").click()
    page.wait_for_selector(f"#frame[data-frame-id='{frame_id}'][data-ready='1']", timeout=WAIT_MS)
    page.go_back()
    page.wait_for_selector("#quality-section[data-report='1']", timeout=WAIT_MS)

    # Best first re-sorts the table.
    page.select_option("#quality-form select[name=sort]", "best")
    page.wait_for_function(
        "() => { const c = [...document.querySelectorAll('#quality-frames tbody td.strong')]"
        ".map(t => Number(t.textContent)); return c.length > 1 && c[0] <= c[c.length - 1]; }",
        timeout=WAIT_MS,
    )
    assert errors == []
    context.close()
