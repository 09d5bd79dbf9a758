"""The FBI labeller in Chromium against a real ASGI server, driven by the keyboard only.

Set-up through the command line like a person would: the live server's synthetic rig
(tests/frontend/live.py), then ``create_fbi_tasks`` gives the second annotator one FBI task. The
annotator starts it from their queue ("Start next" opens the FBI page), answers every bone of every
image with F / ↓ / U / space, and submits with Enter; the server must hold each answer with the seconds
the browser measured. A reviewer then opens a deep link to one bone. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import quote

import pytest

from annotator import keypoints
from tests.frontend import live

pytestmark = pytest.mark.browser

WAIT_MS = 20_000
ANNOTATOR = "ann2"
#: Keys pressed in turn, one answer each, and the labels they mean.
KEYS = ["f", "ArrowDown", "u", "Space", "ArrowUp", "b"]
LABEL_OF_KEY = {"f": "forward", "ArrowUp": "forward", "b": "backward", "ArrowDown": "backward", "u": "unknown",
                "Space": "skipped"}  # fmt: skip
#: Milliseconds between key presses: a fast person, so the recorded times are small but positive.
PAUSE_MS = 40
COMMAND_TIMEOUT_S = 300


def manage(workdir, *args) -> str:
    result = subprocess.run(
        [live.PYTHON, "manage.py", *args], cwd=live.ROOT, env=live._env(workdir), capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT_S, check=True,
    )  # fmt: skip
    return result.stdout


def server_workdir(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "fbi-live"


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = server_workdir(tmp_path_factory)
    info = live.prepare(workdir)
    out = manage(workdir, "create_fbi_tasks", "--dataset", "rig", "--frames", "1", "--seed", "0",
                 "--annotators", ANNOTATOR)  # fmt: skip
    assert "1 FBI tasks" in out
    with live.serve(workdir) as url:
        yield url, info


def test_label_every_bone_with_the_keyboard_and_submit(browser, server, artifacts):
    url, info = server
    ctx, page = live.sign_in(browser, url, ANNOTATOR, info["accounts"][ANNOTATOR], "/tasks/")
    page.wait_for_selector("#task-list td[data-status=todo]", timeout=WAIT_MS)
    page.click("#start-next")
    page.wait_for_selector("#fbi[data-ready='1']", timeout=WAIT_MS)
    task_id = int(page.get_attribute("#fbi", "data-task-id"))
    assert page.url == f"{url}/fbi/{task_id}/"
    payload = page.evaluate(f"() => fetch('/api/tasks/{task_id}/fbi/').then(r => r.json())")
    n_bones, n_views = len(payload["bones"]["pairs"]), len(payload["views"])
    assert (payload["bones"]["subset"], n_bones, n_views) == (keypoints.DEFAULT_BONE_SUBSET, 14, 4)
    # The asked bone is drawn thick with its two joints marked, over the image.
    page.wait_for_function("() => document.querySelector('.fbi-image').complete")
    first = payload["bones"]["pairs"][0]
    bone = page.locator(".fbi-overlay line.bone")
    assert (bone.get_attribute("data-parent"), bone.get_attribute("data-child")) == tuple(map(str, first))
    assert page.locator(".fbi-overlay circle.joint-parent").count() == 1
    assert page.locator(".fbi-overlay circle.joint-child").count() == 1
    assert "Answer only when you are sure" in page.inner_text(".fbi-sure")
    page.screenshot(path=str(artifacts / "fbi-start.png"))

    pressed = []
    for i in range(n_bones * n_views):
        key = KEYS[i % len(KEYS)]
        page.keyboard.press(key)
        pressed.append(LABEL_OF_KEY[key])
        page.wait_for_timeout(PAUSE_MS)
        if i == n_bones + 3:
            page.screenshot(path=str(artifacts / "fbi-second-image.png"))
    page.wait_for_function("() => document.querySelector('#fbi').dataset.pending === '0'", timeout=WAIT_MS)
    assert page.get_attribute("#fbi", "data-answered") == str(n_bones * n_views)
    page.screenshot(path=str(artifacts / "fbi-complete.png"))

    page.keyboard.press("Enter")
    page.wait_for_selector("#fbi[data-submitted='1']", timeout=WAIT_MS)
    assert page.inner_text(".fbi-status") == "submitted"
    page.screenshot(path=str(artifacts / "fbi-submitted.png"))
    payload = page.evaluate(f"() => fetch('/api/tasks/{task_id}/fbi/').then(r => r.json())")
    assert payload["status"] == "submitted"
    # The server holds one answer per bone and image, in the order answered (image by image, bone by bone).
    order = {(v["id"], *b): i for i, (v, b) in
             enumerate((v, b) for v in payload["views"] for b in payload["bones"]["pairs"])}  # fmt: skip
    answers = sorted(payload["answers"], key=lambda a: order[(a["view"], a["parent"], a["child"])])
    assert [a["label"] for a in answers] == pressed
    assert all(0 < a["seconds"] < 5 for a in answers)
    assert all(0 < s < 5 * n_bones for s in payload["seconds_per_view"].values())
    assert page.errors == []
    ctx.close()

    # A reviewer follows a link to one bone of one image (as from the probable depth errors table): read-only.
    view = payload["views"][2]["id"]
    parent, child = payload["bones"]["pairs"][5]
    link = quote(f"/fbi/{task_id}/?view={view}&parent={parent}&child={child}")
    ctx, rev = live.sign_in(browser, url, "rev", info["accounts"]["rev"], link)
    rev.wait_for_selector("#fbi[data-ready='1'].is-read-only", timeout=WAIT_MS)
    rev.wait_for_function("() => document.querySelector('.fbi-image').complete")
    rev.screenshot(path=str(artifacts / "fbi-review-link.png"))
    bone = rev.locator(".fbi-overlay line.bone")
    assert (bone.get_attribute("data-parent"), bone.get_attribute("data-child")) == (str(parent), str(child))
    assert rev.get_attribute(".fbi-images button[aria-selected=true]", "data-view") == "2"
    rev.keyboard.press("f")  # read-only: nothing is sent
    after = rev.evaluate(f"() => fetch('/api/tasks/{task_id}/fbi/').then(r => r.json())")
    assert after["answers"] == payload["answers"]
    assert rev.errors == []
    ctx.close()


def test_dashboard_labels_from_3d_and_shows_the_agreement(browser, server, artifacts, tmp_path_factory):
    """Runs after the test above (same server): its submitted task is the agreement's data."""
    url, info = server
    ctx, page = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/review/")
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=WAIT_MS)
    page.click("#fbi-section [data-action=label]")
    page.wait_for_selector("#fbi-section[data-job]", timeout=WAIT_MS)
    assert "fbi_labels#" in page.inner_text("#fbi-job")
    # No worker runs beside the test server: the command line resumes the same job (finished chunks are kept).
    out = manage(server_workdir(tmp_path_factory), "label_fbi", "--dataset", "rig", "--no-progress")
    assert "resuming job" in out and "skeleton-views labelled" in out
    page.wait_for_selector("#fbi-section[data-job=done]", timeout=WAIT_MS)
    assert "skeleton-views labelled" in page.inner_text("#fbi-job")

    page.click("#fbi-section [data-action=agreement]")
    page.wait_for_selector("#fbi-section[data-agreement='1']", timeout=WAIT_MS)
    n_bins = page.evaluate("() => window.Chart.getChart(document.getElementById('fbi-chart')).data.labels.length")
    assert n_bins == 4
    # One person's HEMlets answers: nothing is listed, and the page says why.
    assert page.locator("#fbi-errors tbody tr").count() == 0
    assert "nothing can be listed until 2 people label the same frames" in page.inner_text(".fbi-policy")

    # Two people answer the hand bones of three more frames (simulated, from the ground truth).
    workdir = server_workdir(tmp_path_factory)
    manage(workdir, "create_fbi_tasks", "--dataset", "rig", "--frames", "3", "--seed", "1", "--bones", "right_hand",
           "--annotators", "ann,ann2", "--per-frame", "2")  # fmt: skip
    manage(workdir, "simulate_fbi", "--dataset", "rig", "--seed", "0", "--no-progress")
    page.click("#fbi-section [data-action=agreement]")
    page.wait_for_function("() => document.querySelectorAll('#fbi-errors tbody tr').length > 0", timeout=WAIT_MS)
    rows = page.locator("#fbi-errors tbody tr")
    assert rows.first.locator("a").get_attribute("href").startswith("/fbi/")
    policy = page.inner_text(".fbi-policy")
    assert "Expected false alarms:" in policy and "at least 2 people contradict" in policy
    page.screenshot(path=str(artifacts / "fbi-dashboard.png"), full_page=True)
    # No flag goes to the queue unless the reviewer ticks it: nothing is ticked, and sending is off.
    assert page.locator("#fbi-errors input[name=choose]:checked").count() == 0
    assert page.locator("#fbi-send button[type=submit]").is_disabled()
    rows.first.locator("input[name=choose]").check()
    frame = int(rows.first.get_attribute("data-frame"))
    # ann has a correction task on every frame of this server (live.prepare); ann2 has none.
    page.select_option("#fbi-send select[name=annotator]", "ann2")
    page.click("#fbi-send button[type=submit]")
    page.wait_for_selector(".fbi-send-message.ok", timeout=WAIT_MS)
    assert page.inner_text(".fbi-send-message") == "1 correction tasks at the front of ann2's queue"
    query = ("import json; from annotator.models import Task; print(json.dumps(list(Task.objects.filter("
             "kind='correction', assignee__username='ann2').values_list('frame_id', flat=True))))")  # fmt: skip
    created = json.loads(manage(workdir, "shell", "-c", query).strip().splitlines()[-1])  # after any start-up lines
    assert created == [frame]
    assert page.errors == []
    ctx.close()
