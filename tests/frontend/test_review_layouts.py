"""A COCO-17 dataset's review pages in Chromium: a cross-check study's page draws the layout's own parts (all
and body) in the colours the report's layout data gives, hides the face and hand histograms, and says why H3WB's
published figures are not beside it; the FBI labeller asks about COCO-17's 14 bones on COCO-17's skeleton.
Screenshots: review-report-coco17.png, fbi-coco17.png.

Set-up through the command line like the H3WB study of test_review.py: the live rig imported a second time and
turned into a COCO-17 dataset (``tests.coco17``), a frame-mode study of it completed by simulated annotators,
and one FBI task on it for the second annotator.
"""

from __future__ import annotations

import pytest

from tests.frontend import live
from tests.frontend.test_review import ANNOTATOR, WAIT_MS, manage

pytestmark = pytest.mark.browser

STUDY = "coco17-study"
#: Turn a second import of the live rig into a COCO-17 dataset (``manage.py shell -c``).
SETUP = """
from pathlib import Path
from annotator.services.imports import dataset_import_h3wb
from tests.coco17 import as_coco17
rig = Path({rig!r})
dataset_import_h3wb(dataset_name="rig17", annotations=rig / "h3wb.json", images=rig / "images",
                    ground_truth=rig / "ground_truth.json")
as_coco17("rig17")
"""


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("review-coco17")
    info = live.prepare(workdir)
    rig = workdir.parent / f"live-template-f{live.FRAMES}" / "rig"
    manage(workdir, "shell", "-c", SETUP.format(rig=str(rig)))
    manage(workdir, "create_study", "--dataset", "rig17", "--items", str(live.FRAMES), "--mode", "frame",
           "--annotators", ANNOTATOR, "--name", STUDY)  # fmt: skip
    manage(workdir, "simulate_annotators", "--study", "1", "--no-progress")
    out = manage(workdir, "create_fbi_tasks", "--dataset", "rig17", "--frames", "1", "--seed", "0",
                 "--annotators", ANNOTATOR)  # fmt: skip
    assert "1 FBI tasks (hemlets14 bones)" in out
    with live.serve(workdir) as url:
        yield url, info


def test_a_coco17_study_draws_its_layouts_parts(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/review/studies/1/")
    page.wait_for_selector("#dashboard[data-ready='1'][data-page='study']", timeout=WAIT_MS)
    report = page.evaluate("() => fetch('/api/studies/1/report/').then(r => r.json())")
    assert report["layout"]["version"] == "coco-17/v1"
    rows = page.locator("#parts-table tbody tr")
    assert [rows.nth(i).get_attribute("data-part") for i in range(rows.count())] == ["all", "body"]
    assert "not comparable" in page.inner_text(".published-note")
    # Only the layout's parts have a histogram; the face and hand figures are hidden.
    visible = page.eval_on_selector_all("canvas[id^=hist-]", "els => els.filter(e => !e.closest('figure').hidden)"
                                        ".map(e => e.id)")  # fmt: skip
    assert visible == ["hist-all", "hist-body"]
    captions = page.eval_on_selector_all(
        ".hist-grid figure:not([hidden]) figcaption", "els => els.map(e => e.textContent)"
    )
    assert captions == ["All keypoints", "Body"]  # no "(with feet)": COCO-17 has none
    # Every keypoint bar has the colour the report's layout data gives its part.
    colors = page.evaluate(
        "() => window.Chart.getChart(document.getElementById('chart-keypoints')).data.datasets[0].backgroundColor"
    )
    body = next(p["color"] for p in report["layout"]["metric_parts"] if p["name"] == "body")
    assert colors == [body] * 17
    heads = page.eval_on_selector_all("#frames-table thead th.part-col", "els => els.map(e => e.textContent)")
    assert heads == ["All", "Body"]
    assert page.locator("#frames-table tbody tr").count() == live.FRAMES
    assert page.locator("#instrument-bias tbody tr").count() == 2
    page.wait_for_selector("#instrument-sensitivity[data-ready='1']", timeout=WAIT_MS)
    options = page.eval_on_selector_all("#instrument-sensitivity select[name=part] option",
                                        "els => els.map(e => e.value)")  # fmt: skip
    assert options == ["all", "body"]
    page.screenshot(path=str(artifacts / "review-report-coco17.png"), full_page=True)
    assert page.errors == []
    ctx.close()


def test_the_fbi_labeller_asks_about_coco17_bones(browser, server, artifacts):
    from annotator import keypoints

    url, info = server
    coco17 = keypoints.layout_get("coco-17")
    ctx, page = live.sign_in(browser, url, ANNOTATOR, info["accounts"][ANNOTATOR], "/tasks/")
    page.wait_for_selector("#task-list td[data-status=todo]", timeout=WAIT_MS)
    task_id = page.evaluate(
        "() => fetch('/api/tasks/').then(r => r.json()).then(rows => rows.find(t => t.kind === 'fbi').id)"
    )
    page.goto(f"{url}/fbi/{task_id}/")
    page.wait_for_selector("#fbi[data-ready='1']", timeout=WAIT_MS)
    payload = page.evaluate(f"() => fetch('/api/tasks/{task_id}/fbi/').then(r => r.json())")
    assert payload["bones"]["pairs"] == coco17.bones("hemlets14").tolist()
    assert payload["layout"]["names"] == list(coco17.names)
    first = payload["bones"]["pairs"][0]
    bone = page.locator(".fbi-overlay line.bone")
    assert (bone.get_attribute("data-parent"), bone.get_attribute("data-child")) == tuple(map(str, first))
    page.wait_for_function("() => document.querySelector('.fbi-image').complete")
    page.screenshot(path=str(artifacts / "fbi-coco17.png"))
    assert page.errors == []
    ctx.close()
