"""A walk through every page, as each role, in Chromium against daphne: what a careful user would trip on.

For every page of ``PAGES`` (the role's own pages, and the ones it must be refused, with their status) the
walk fails on:

- a document status other than the expected one (a refused page is the site's own 403/404 page);
- any console error or uncaught script error;
- any response of 400 or more the page did not expect (a quality report before scoring, a list at
  ``/exports/undefined``: every request a page makes on its own must succeed);
- any element the user must click that is not visible inside the window: on the full-window pages (editor,
  FBI labeller, review of a task, frame page) at a laptop's 1280 x 720 as well as at 1600 x 1000, the
  buttons a person needs must be on screen without scrolling.

The data: the live rig, a frame-mode study of two frames corrected by simulated annotators for ``ann2``, and
one FBI task for ``ann``, set up through the command line. Screenshots of every page go to test-artifacts/walk/.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.frontend import live

pytestmark = pytest.mark.browser

WAIT_MS = 20_000
COMMAND_TIMEOUT_S = 300
#: A laptop's window: the full-window pages must fit their buttons in it too.
SMALL_VIEWPORT = {"width": 1280, "height": 720}


def manage(workdir, *args) -> str:
    result = subprocess.run(
        [live.PYTHON, "manage.py", *args], cwd=live.ROOT, env=live._env(workdir), capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT_S, check=True,
    )  # fmt: skip
    return result.stdout


@dataclass(frozen=True)
class Page:
    """A page to visit: its path (with ``{task}``-style fields from ``ids``), the status its document must have,
    a selector that is there once the page has done its work, and what a person must be able to click."""

    path: str
    status: int = 200
    ready: str = "main"
    click: tuple[str, ...] = ()
    #: A full-window page (no scrolling): its clickable elements must lie inside the window.
    full_window: bool = False
    #: Requests that may answer 4xx (regular expressions on "METHOD path").
    allowed: tuple[str, ...] = field(default_factory=tuple)


EDITOR_CLICKS = ("[data-action=undo]", "[data-action=redo]", "[data-action=help]", "[data-action=submit]",
                 ".focus-buttons button", ".panel-actions button", ".show-part", ".view .part-toggle",
                 "#opacity", "#brightness", "#contrast")  # fmt: skip
#: Lists scroll inside their panel: their first row must be on screen, not every row.
EDITOR_READY = "#editor[data-ready='1']"
REVIEW_CLICKS = (".review-actions button", "#review-comment", ".kp-moves li[data-k] >> nth=0", ".history li >> nth=0")
COMMON = (
    Page("/"),
    Page("/datasets/rig/"),
    Page("/tasks/", ready="#task-filters"),
    Page("/tasks/?kind=correction&sort=updated", ready="#task-filters"),
    Page("/tasks/{missing}/", status=404),
    Page("/api/", ready="body"),
)
PAGES: dict[str, tuple[Page, ...]] = {
    "ann": COMMON
    + (
        Page("/tasks/{own}/", ready=f"{EDITOR_READY}:not(.is-read-only)", click=EDITOR_CLICKS, full_window=True),
        Page(
            "/fbi/{own_fbi}/",
            ready="#fbi[data-ready='1']",
            click=(".fbi-answers button", "[data-action=submit]"),
            full_window=True,
        ),
        Page("/tasks/{foreign}/", status=404),
        Page("/fbi/{foreign}/", status=404),
        Page("/review/", status=403),
        Page("/review/queue/", status=403),
        Page("/review/tasks/{study_task}/", status=403),
        Page("/exports/", status=403),
        Page("/frames/{frame}/", status=403),
    ),
    "rev": COMMON
    + (
        Page(
            "/review/",
            ready="#dashboard[data-ready='1']",
            click=("#to-queue", "#study-form button[type=submit]", "[data-action=score]", "#fbi-tasks summary"),
        ),
        Page("/review/queue/", ready="#task-list", click=("a.review-link",)),
        Page("/review/studies/1/", ready="#dashboard[data-ready='1']", click=("#frames-table a",)),
        Page("/review/studies/{missing}/", status=404),
        Page("/review/tasks/{study_task}/", ready="#review[data-ready='1']", click=REVIEW_CLICKS, full_window=True),
        Page(
            "/review/tasks/{own_fbi}/",
            ready="#fbi[data-ready='1']",
            click=("[data-review] textarea",),
            full_window=True,
        ),
        Page("/review/tasks/{missing}/", status=404),
        Page(
            "/tasks/{own}/",
            ready="#editor[data-ready='1'].is-read-only",
            click=("[data-action=help]", ".focus-buttons button"),
            full_window=True,
        ),
        Page(
            "/frames/{frame}/",
            ready="#frame[data-ready='1']",
            click=(".compare select", ".kp-moves li >> nth=0"),
            full_window=True,
        ),
        Page("/datasets/rig/?subject=S1", ready="#frame-list", click=("#frame-list a",)),
        Page("/exports/", ready="#export-list[data-ready='1']", click=("#export-form button[type=submit]",)),
        Page("/api/docs/", ready="#swagger-ui"),
    ),
    "admin": (
        Page("/review/", ready="#dashboard[data-ready='1']"),
        Page("/admin/"),
        Page("/admin/annotator/task/"),
        Page("/admin/annotator/task/{own}/change/"),
        Page("/admin/annotator/skeleton3d/"),
        Page("/admin/annotator/job/"),
        Page("/admin/annotator/study/1/change/"),
    ),
}


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("walk-live")
    info = live.prepare(workdir)
    manage(workdir, "create_study", "--dataset", "rig", "--items", "2", "--mode", "frame", "--annotators", "ann2",
           "--name", "walk-study")  # fmt: skip
    manage(workdir, "simulate_annotators", "--study", "1", "--no-progress")
    manage(workdir, "create_fbi_tasks", "--dataset", "rig", "--frames", "1", "--annotators", "ann")
    with live.serve(workdir) as url:
        yield url, info


def _ids(url: str, info: dict, page) -> dict:
    """The ids the paths name, read from the API as the reviewer sees them."""
    tasks = page.request.get(f"{url}/api/tasks/").json()
    study_task = next(t["id"] for t in tasks if t["assignee"] == "ann2" and t["status"] == "submitted")
    own_fbi = next(t["id"] for t in tasks if t["assignee"] == "ann" and t["kind"] == "fbi")
    frame = next(t["frame"]["id"] for t in tasks if t["id"] == study_task)
    return {"own": info["tasks"][1], "own_fbi": own_fbi, "foreign": study_task, "study_task": study_task,
            "frame": frame, "missing": 99_999}  # fmt: skip


def _outside(page, selector: str, viewport: dict) -> list[str]:
    """The elements of ``selector`` a person cannot click where they are: hidden, or not inside the window."""
    out = []
    items = page.locator(selector)
    count = items.count()
    if count == 0:
        return [f"{selector}: no such element"]
    for i in range(count):
        box = items.nth(i).bounding_box()
        if box is None or box["width"] == 0:
            continue  # not rendered here (a hidden part, a collapsed section): nothing to click
        inside = (box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5
                  and box["y"] + box["height"] <= viewport["height"] + 0.5)  # fmt: skip
        if not inside:
            out.append(f"{selector}[{i}] at {box}")
    return out


def _walk(browser, url: str, user: str, password: str, pages: tuple[Page, ...], ids: dict, artifacts, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    current: dict = {}

    def on_console(message):
        if message.type != "error":
            return
        # The browser logs the refused document itself ("Failed to load resource: 403"): that one is expected.
        if current["page"].status >= 400 and message.location.get("url", "").split("?")[0] == current["url"]:
            return
        problems.append(f"{current['path']}: console error: {message.text}")

    def on_response(response):
        if response.status < 400 or response.url.split("?")[0] == current["url"]:
            return
        what = f"{response.request.method} {response.url.removeprefix(url)}"
        if not any(re.fullmatch(pattern, what) for pattern in current["page"].allowed):
            problems.append(f"{current['path']}: unexpected {response.status} from {what}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"{current['path']}: script error: {exc}"))
    page.on("response", on_response)
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    folder = artifacts / "walk"
    folder.mkdir(exist_ok=True)
    for spec in pages:
        path = spec.path.format(**ids)
        current.update(page=spec, path=path, url=f"{url}{path.split('?')[0]}")
        response = page.goto(f"{url}{path}")
        if response.status != spec.status:
            problems.append(f"{path}: status {response.status}, expected {spec.status}")
            continue
        if spec.status >= 400:
            assert page.locator("header.topbar").count() == 1, f"{path}: not the site's own {spec.status} page"
        try:
            page.wait_for_selector(spec.ready, state="attached", timeout=WAIT_MS)
            page.wait_for_load_state("networkidle")
        except PlaywrightTimeout:
            problems.append(f"{path}: never became ready ({spec.ready})")
            continue
        name = re.sub(r"[^a-z0-9]+", "-", f"{user}{path}".lower()).strip("-")
        page.screenshot(path=str(folder / f"{name}-{viewport['width']}.png"))
        for selector in spec.click:
            if spec.full_window:
                problems += [f"{path}: {p}" for p in _outside(page, selector, viewport)]
            elif page.locator(selector).count() == 0:
                problems.append(f"{path}: {selector}: no such element")
    context.close()
    return problems


@pytest.mark.parametrize("user", list(PAGES))
def test_walk_every_page(browser, server, artifacts, user):
    url, info = server
    context, probe = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/")
    ids = _ids(url, info, probe)
    context.close()
    problems = _walk(browser, url, user, info["accounts"][user], PAGES[user], ids, artifacts, live.VIEWPORT)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("user", ["ann", "rev"])
def test_full_window_pages_fit_a_laptop(browser, server, artifacts, user):
    url, info = server
    context, probe = live.sign_in(browser, url, "rev", info["accounts"]["rev"], "/")
    ids = _ids(url, info, probe)
    context.close()
    pages = tuple(p for p in PAGES[user] if p.full_window)
    problems = _walk(browser, url, user, info["accounts"][user], pages, ids, artifacts, SMALL_VIEWPORT)
    assert problems == [], "\n".join(problems)
