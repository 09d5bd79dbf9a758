"""A real ASGI server (``manage.py serve``: HTTP and websockets) over a throw-away database, for browser tests.

``prepare(workdir)`` builds the data in a subprocess with its own settings: it migrates a fresh SQLite
file, renders the synthetic rig's people (real images, Human3.6M cameras), imports them, creates the
users and gives the annotator tasks; ``prepare(workdir, rig="ring6")`` films them with the six cameras of
the ring instead and imports them through ``manage.py import_dataset`` (the generic format, an Anipose
calibration), and ``prepare(workdir, rig="ring6", layout="coco-17")`` writes them with another keypoint
layout (the 17 COCO body keypoints) before that import. It does that once per test session (in a
template folder beside the workdirs) and copies the database into each module's workdir, so every
module starts from the same fresh data without rendering it again. ``serve(workdir)`` runs the server
on a free port against that file and yields its base URL. Run ``python -m tests.frontend.live WORKDIR``
to do the first step by hand.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
#: The accounts the browser signs in with: username -> (password, role).
ACCOUNTS = {"ann": ("pw-ann-123", "annotator"), "ann2": ("pw-ann2-123", "annotator"), "rev": ("pw-rev-123", "reviewer"),
            "admin": ("pw-admin-123", "admin")}  # fmt: skip
#: Instants rendered by the synthetic rig; the annotator gets one task per instant (the 6-camera ring: fewer).
FRAMES = 4
RING_FRAMES = 2
#: Seconds to wait for data set-up and for the server to answer.
SETUP_TIMEOUT_S = 240
START_TIMEOUT_S = 30


def _env(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url or f"sqlite:///{workdir / 'live.sqlite3'}",
        DJANGO_TEST_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_SETTINGS_MODULE="annotator.settings.test",
        PYTHONPATH=str(ROOT),
    )
    # The server keeps its connections as deployments do (the test settings close them for in-process tests).
    env.setdefault("DJANGO_CONN_MAX_AGE", "60")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


#: Browser window of the page tests: the editor's 2x2 grid and side panel at a laptop-screen size.
VIEWPORT = {"width": 1600, "height": 1000}


def sign_in(browser, url: str, username: str, password: str, next_path: str):
    """A new browser context signed in as ``username`` through the login form, on ``next_path``.

    The page collects uncaught script errors in ``page.errors`` so tests can assert there were none.
    """
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.errors = errors
    return context, page


def worker_command() -> list[str]:
    """``manage.py`` arguments of the task worker the environment's backend needs (RQ under REDIS_URL)."""
    if os.environ.get("REDIS_URL"):
        return ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]
    return ["db_worker", "--no-startup-delay", "--interval", "0.1", "--no-reload"]


@contextlib.contextmanager
def worker(workdir: Path) -> Iterator[subprocess.Popen]:
    """The task worker the environment's backend needs (``worker_command``) over ``workdir``'s database."""
    log = open(workdir / "worker.log", "ab")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(
        [PYTHON, "manage.py", *worker_command()], cwd=ROOT, env=_env(workdir), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        _stop(proc, log)


def _stop(proc: subprocess.Popen, log) -> None:
    """Stop a server or worker process (killed if it does not end within 10 s) and close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _build_once(target: Path, rig: str = "h36m", layout: str | None = None) -> None:
    if (target / "info.json").exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [PYTHON, "-m", "tests.frontend.live", str(target), rig, *([layout] if layout else [])],
        cwd=ROOT, env=_env(target), check=True, timeout=SETUP_TIMEOUT_S,
    )  # fmt: skip


def prepare(workdir: Path, rig: str = "h36m", layout: str | None = None) -> dict:
    """A fresh database in ``workdir`` and its description (accounts, task ids).

    The data are built once per session in ``<workdir's parent>/live-template-f<FRAMES>`` (a pytest basetemp
    is one per session) and the database file is copied; the rendered images stay in the template, which
    the database points at. ``layout``: a keypoint layout other than the default (another rig than h36m).
    """
    info_path = workdir / "info.json"
    if not info_path.exists():
        template = workdir.parent / (f"live-template-f{FRAMES}" if rig == "h36m" else f"live-template-{rig}")
        if layout:
            template = template.with_name(f"{template.name}-{layout.replace('/', '-')}")
        _build_once(template, rig, layout)
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "live.sqlite3", workdir / "live.sqlite3")
        shutil.copyfile(template / "info.json", info_path)
    return json.loads(info_path.read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(
    workdir: Path, *, database_url: str | None = None, port: int | None = None, workers: int | None = 1
) -> Iterator[str]:
    """Run the app's server (``manage.py serve``, as ``make serve`` does) against ``workdir``'s database (or
    ``database_url``) on ``port`` (default: a free one) with ``workers`` processes (None: its default);
    yields the base URL, stops the server after."""
    port = port or _free_port()
    log = open(workdir / "server.log", "ab")  # noqa: SIM115 - closed below, after the process
    command = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command + (["--workers", str(workers)] if workers else []),
        cwd=ROOT, env=_env(workdir, database_url), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"{url}/accounts/login/", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {workdir / 'server.log'}") from None
                time.sleep(0.1)
        yield url
    finally:
        _stop(proc, log)


def _build(workdir: Path, rig_name: str = "h36m", layout: str | None = None) -> dict:
    """In the subprocess: migrate, render and import the rig, create accounts and tasks."""
    import django

    django.setup()
    from django.core.management import call_command

    from annotator.models import Frame
    from annotator.services.imports import dataset_import_h3wb
    from annotator.services.tasks import task_create
    from annotator.services.users import user_ensure
    from fixtures.synthetic import generate

    call_command("migrate", verbosity=0)
    rig = workdir / "rig"
    if rig_name == "h36m":
        generate(rig, subjects=("S1",), frames=FRAMES, workers=1, progress=False)
        dataset_import_h3wb(
            dataset_name="rig",
            annotations=rig / "h3wb.json",
            images=rig / "images",
            ground_truth=rig / "ground_truth.json",
            detections=rig / "detections.json",
            description="synthetic rig for the browser tests",
        )
    else:
        generate(rig, subjects=("S1",), frames=RING_FRAMES, workers=1, progress=False, rig=rig_name,
                 **({"layout": layout} if layout else {}))  # fmt: skip
        call_command("import_dataset", str(rig / "frames.jsonl"), dataset=rig_name, no_progress=True)
    users = {name: user_ensure(username=name, password=pw, role=role)[0] for name, (pw, role) in ACCOUNTS.items()}
    tasks = [
        task_create(frame=frame, assignee=users["ann"], priority=i).pk
        for i, frame in enumerate(Frame.objects.order_by("id"))
    ]
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        # Everything into the main file (WAL mode): prepare() copies that file alone.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connections.close_all()
    frames = list(Frame.objects.order_by("id").values_list("id", flat=True))
    return {"tasks": tasks, "frames": frames, "accounts": {name: pw for name, (pw, _) in ACCOUNTS.items()}}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    info = _build(target, *sys.argv[2:4])
    (target / "info.json").write_text(json.dumps(info))
    print(json.dumps(info))
