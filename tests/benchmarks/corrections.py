"""Correction round trip through a real server: POST a correction, get the re-triangulated answer.

Not a timed test: run ``python -m tests.benchmarks.corrections``. The script prepares a temporary
SQLite database (migrate, one imported frame, an annotator with a token and a task), starts the app's
server (``manage.py serve``, one process) on a free 127.0.0.1 port as a subprocess, and sends N
sequential corrections over one keep-alive connection with token authentication, each based on the
revision the previous answer returned. It prints p50/p95/p99 latency and throughput. Target: p95 <= 30 ms
on a 2-core machine. ``--rig h36m``: an H3WB frame on the Human3.6M S1 rig (4 views); ``--rig ring6``: a
frame of the generic format on the synthetic rig's 6-camera Anipose ring (every correction re-fits the
keypoint from six views); ``--rig all`` (the default): both, one after the other.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET_P95_MS = 30.0
SETTINGS = "annotator.settings.base"
RIGS = ("h36m", "ring6")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(var_dir: Path, rig: str = "h36m") -> tuple[str, int, list[dict]]:
    """Migrate, import one frame, create the annotator, token and task; returns (token, task id, views)."""
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from annotator import geometry, roles
    from annotator.services.imports import dataset_import_h3wb
    from annotator.services.tasks import task_create
    from annotator.services.users import user_ensure
    from tests.h3wb_files import write_release

    call_command("migrate", verbosity=0)
    if rig == "h36m":
        written = write_release(var_dir / "release.json", [("S1", "Walking 1", 10)])
        dataset_import_h3wb(dataset_name="bench", annotations=written.path)
    else:
        from annotator.services.multiview_imports import dataset_import_multiview
        from tests.multiview_files import write_multiview

        written = write_multiview(var_dir / "ring", frames=[("S1", "Walking 1", 10)])
        dataset_import_multiview(dataset_name="bench", path=written.path)
    from annotator.models import Frame

    frame = Frame.objects.get()
    user, _ = user_ensure(username="bench", password="bench-password-123", role=roles.ANNOTATOR)
    token, _ = Token.objects.get_or_create(user=user)
    task = task_create(frame=frame, assignee=user)
    world = next(iter(written.world.values()))
    views = []
    for view in frame.views.select_related("camera").order_by("camera__name"):
        cam = view.camera.as_geometry()
        views.append({"id": view.pk, "projection": geometry.project(cam, world)})
    return token.key, task.pk, views, _queries_per_correction(frame, views[0]["id"])


#: Statements that open and close transactions, not counted as queries.
TRANSACTION_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _queries_per_correction(frame, view_id: int) -> int:
    """Database queries of one correction (a face keypoint: the part-validity check included), in-process,
    on a task of another annotator so the benchmarked task stays at revision 0."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from annotator import roles
    from annotator.services.tasks import task_create
    from annotator.services.users import user_ensure

    user, _ = user_ensure(username="bench-queries", password="bench-password-123", role=roles.ANNOTATOR)
    task = task_create(frame=frame, assignee=user)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    body = {"view": view_id, "keypoint": 50, "x": 500.0, "y": 500.0, "base_revision": 0}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/tasks/{task.pk}/corrections/", body, content_type="application/json")
    if response.status_code != 201:
        raise RuntimeError(f"the query-count correction failed: {response.status_code} {response.content[:300]!r}")
    return sum(1 for q in captured.captured_queries if not q["sql"].upper().startswith(TRANSACTION_STATEMENTS))


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not listen on port {port} within {timeout} s")


def run(n: int, seed: int, rig: str = "h36m") -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix="annotator-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DJANGO_VAR_DIR": str(var_dir), "DJANGO_DEBUG": "false",
           "DJANGO_LOG_LEVEL": "WARNING"}  # fmt: skip
    os.environ.update(env)
    token, task_id, views, queries = _prepare(var_dir, rig)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for(port, server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        rng = np.random.default_rng(seed)
        revision = 0
        latencies = []
        start = time.perf_counter()
        for _ in range(n):
            view = views[int(rng.integers(len(views)))]
            keypoint = int(rng.integers(len(view["projection"])))
            x, y = view["projection"][keypoint] + rng.normal(0, 8.0, 2)
            body = json.dumps({"view": view["id"], "keypoint": keypoint, "x": float(x), "y": float(y),
                               "base_revision": revision})  # fmt: skip
            t0 = time.perf_counter()
            conn.request("POST", f"/api/tasks/{task_id}/corrections/", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            latencies.append(time.perf_counter() - t0)
            if response.status != 201:
                raise RuntimeError(f"correction failed with {response.status}: {payload[:300]!r}")
            revision = json.loads(payload)["revision"]
        elapsed = time.perf_counter() - start
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = np.asarray(latencies) * 1000.0
    return {
        "n": n,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "throughput_per_s": n / elapsed,
        "final_revision": revision,
        "queries": queries,
        "views": len(views),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="sequential corrections (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rig", choices=(*RIGS, "all"), default="all", help="the frame's cameras (default: each)")
    args = parser.parse_args()
    for rig in RIGS if args.rig == "all" else (args.rig,):
        # Each rig in its own process: Django is set up once per process, on the database its run prepares.
        if args.rig == "all":
            subprocess.run([sys.executable, "-m", "tests.benchmarks.corrections", "-n", str(args.n), "--seed",
                            str(args.seed), "--rig", rig], cwd=ROOT, check=True)  # fmt: skip
            continue
        report(run(args.n, args.seed, rig), rig)


def report(r: dict, rig: str) -> None:
    print(f"{rig} rig, {r['views']} views: {r['n']} sequential corrections through manage.py serve over loopback "
          "(token auth, keep-alive):")  # fmt: skip
    print(f"  {r['queries']} database queries per correction (transaction statements not counted)")
    print(f"  latency p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
          f"max {r['max_ms']:.1f} ms")  # fmt: skip
    print(f"  throughput {r['throughput_per_s']:.0f} corrections/s; final revision {r['final_revision']}")
    verdict = "meets" if r["p95_ms"] <= TARGET_P95_MS else "MISSES"
    print(f"  p95 {verdict} the {TARGET_P95_MS:.0f} ms target")


if __name__ == "__main__":
    main()
