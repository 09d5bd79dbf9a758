"""``manage.py serve`` (what ``make serve`` runs): requests are served concurrently, so one stuck behind a
database lock does not hold up the others; several processes only with Redis; debug pages off by default."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from annotator.management.commands import serve
from tests.benchmarks import load
from tests.frontend import live

ROOT = Path(__file__).resolve().parents[3]
#: Seconds the request that waits on the lock may take at most (SQLite's busy timeout is 30 s).
BLOCKED_FOR_S = 30


class WorkersTests:
    def test_several_processes_without_redis_are_refused_with_the_reason(self):
        with override_settings(REDIS_URL=None), pytest.raises(CommandError, match="3 web processes need REDIS_URL"):
            call_command("serve", workers=3)

    def test_the_default_is_one_process_without_redis_and_several_with_it(self):
        with override_settings(REDIS_URL=None):
            assert serve.default_workers() == 1
        with override_settings(REDIS_URL="redis://127.0.0.1:6379/0"):
            assert 1 <= serve.default_workers() <= serve.MAX_AUTO_WORKERS

    def test_make_serve_runs_this_command_with_the_dev_settings(self):
        # Read, not run: ``make -n`` still runs recipe lines that call $(MAKE), and this one starts the server.
        makefile = (ROOT / "Makefile").read_text()
        recipe = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
        assert "$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)" in recipe
        # manage.py's default settings (annotator.settings.dev), debug pages off unless DJANGO_DEBUG asks.
        assert "DJANGO_DEBUG" not in recipe and "DJANGO_SETTINGS_MODULE" not in recipe and "daphne" not in recipe


def _request(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=BLOCKED_FOR_S + 30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_request_waiting_on_the_database_does_not_hold_up_the_others(tmp_path):
    """One process: a correction waits for a write lock another program holds on the SQLite file; meanwhile
    another annotator's page loads. (Under Django's own ASGI handler every request shared one thread, so the
    page waited for the correction.)"""
    db_file = tmp_path / "serve.sqlite3"
    database_url = f"sqlite:///{db_file}"
    clients = load._django(database_url, "prepare", {"clients": 2})["clients"]
    with live.serve(tmp_path, database_url=database_url, workers=1) as url:
        first, second = clients
        page = _request(f"{url}/api/tasks/{first['task']}/", first["token"])[1]
        body = {"view": page["views"][0]["id"], "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        blocker = sqlite3.connect(db_file, timeout=5)
        blocker.execute("BEGIN IMMEDIATE")  # the write lock, as another writer holding it would
        answers: dict = {}
        writer = threading.Thread(
            target=lambda: answers.update(
                write=_request(f"{url}/api/tasks/{first['task']}/corrections/", first["token"], body)
            )  # fmt: skip
        )
        try:
            writer.start()
            writer.join(timeout=1.0)
            assert writer.is_alive(), f"the correction should be waiting for the lock: {answers}"
            status, other = _request(f"{url}/api/tasks/{second['task']}/", second["token"])
            assert status == 200 and other["id"] == second["task"]
            assert writer.is_alive(), "the page was answered only after the correction"
        finally:
            blocker.rollback()
            blocker.close()
        writer.join(timeout=BLOCKED_FOR_S + 30)
        assert answers["write"][0] == 201, answers


def test_each_web_thread_keeps_its_database_connection(tmp_path):
    """A request does not pay for a new PostgreSQL connection: 40 requests open at most one per thread (under
    Django's own handler each request ran in a new thread with a new connection)."""
    import os

    import psycopg2

    from annotator.conf import option
    from tests.conftest import require

    base_url = os.environ.get("DATABASE_URL", "")
    require(base_url.startswith("postgres"), "postgresql", "DATABASE_URL does not name a PostgreSQL database")
    database_url = load.recreate_database(base_url, "_serve")
    try:
        clients = load._django(database_url, "prepare", {"clients": 1})["clients"]
        name = database_url.rsplit("/", 1)[-1]

        def sessions() -> int:
            with psycopg2.connect(load._database_urls(base_url, "")[0]) as conn, conn.cursor() as cur:
                cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,))
                return cur.fetchone()[0]

        with live.serve(tmp_path, database_url=database_url, workers=1) as url:
            before = sessions()
            for _ in range(40):
                assert _request(f"{url}/api/tasks/{clients[0]['task']}/", clients[0]["token"])[0] == 200
            opened = sessions() - before
        assert opened <= option("WEB_THREADS"), f"{opened} connections for 40 requests"
    finally:
        load.drop_database(base_url, "_serve")


def test_a_server_process_loads_every_view_before_its_first_request():
    """Django loads the URLconf on the first request; the ASGI module loads it when the process starts, so no
    process of ``serve --workers N`` keeps its first user waiting for the views' imports (torch among them)."""
    import subprocess
    import sys

    probe = (
        "import sys; import annotator.asgi; from django.conf import settings; "
        "print(settings.ROOT_URLCONF in sys.modules, 'api.ml_apis' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["True", "True"], out.stderr
