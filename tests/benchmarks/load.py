"""Load test: simulated annotators correcting their own tasks against the app's server on loopback, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:54330/annotator REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m tests.benchmarks.load --clients 20 --seconds 60

The run makes its own database next to the one ``DATABASE_URL`` names (``<name>_load``, dropped and
created again), prepares it in a subprocess (migrate, import ``clients`` frames on the Human3.6M rigs, one
annotator with a token and one task each), serves it as ``make serve`` does (``manage.py serve``: several
processes with ``REDIS_URL``, one without, each running requests in a pool of threads) on a free loopback
port, and drives it with asyncio clients (httpx): first ONE client alone for ``solo_seconds``, then all
``clients`` together for ``seconds``. Each client reads its task, then posts corrections based on the
revision it holds (every tenth write an undo). It prints throughput and p50/p95/p99 latency of both
phases and the two ratios the target is stated in (the crowd's throughput over the lone client's, the
crowd's p95 over the lone client's p50), then checks in another subprocess that nothing was lost: every
correction answered 201 is in the audit trail with the revision it was answered with, each task has
exactly the rows its clients were told about, and each task's state equals the replay of its history.
``run()`` returns the report; tests/test_load.py runs a short one in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from tests.frontend import live

ROOT = live.ROOT
#: Every this-many-th write of a client is an undo (a write that restores an earlier value).
UNDO_EVERY = 10
PASSWORD = "pw-load-123"
#: Seconds one request may take before the client gives up on it (counted as an error).
REQUEST_TIMEOUT_S = 30
#: The targets (issue 16): the crowd's throughput over one client's, and its p95 over one client's p50.
TARGET_THROUGHPUT_RATIO = 3.0
TARGET_P95_OVER_SOLO_P50 = 5.0


def _database_urls(base_url: str, suffix: str) -> tuple[str, str, str]:
    """(admin URL on the ``postgres`` database, the scratch database's URL, its name) from ``base_url``."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") + suffix
    admin = urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path=f"/{name}")), name


def recreate_database(base_url: str, suffix: str = "_load") -> str:
    """Drop and create the scratch database ``<name><suffix>`` beside ``base_url``'s; returns its URL."""
    import psycopg2

    admin, url, name = _database_urls(base_url, suffix)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return url


def drop_database(base_url: str, suffix: str = "_load") -> None:
    import psycopg2

    admin, _, name = _database_urls(base_url, suffix)
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="annotator.settings.test", PYTHONPATH=str(ROOT))
    return env


def _django(database_url: str, step: str, payload: dict, timeout: float = 600) -> dict:
    """Run ``step`` (prepare / verify) of this module in a subprocess on ``database_url``; its JSON answer."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(payload, fh)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.load", f"--step={step}", f"--payload={fh.name}"],
            cwd=ROOT, env=_env(database_url), capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    finally:
        os.unlink(fh.name)
    if result.returncode:
        raise RuntimeError(f"{step} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- steps that run inside Django (subprocesses) ----------------------------------------------------


def _prepare(payload: dict) -> dict:
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from annotator import roles
    from annotator.models import Frame
    from annotator.services.imports import dataset_import_h3wb
    from annotator.services.tasks import task_create
    from annotator.services.users import user_ensure
    from tests.h3wb_files import write_release

    call_command("migrate", verbosity=0)
    n = payload["clients"]
    frames = [("S1", "Walking 1", 10 * (i + 1)) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        written = write_release(Path(tmp) / "release.json", frames)
        dataset_import_h3wb(dataset_name="load", annotations=written.path)
    clients = []
    for i, frame in enumerate(Frame.objects.order_by("id")[:n]):
        user = user_ensure(username=f"load{i:02d}", password=PASSWORD, role=roles.ANNOTATOR)[0]
        task = task_create(frame=frame, assignee=user)
        clients.append({"token": Token.objects.get_or_create(user=user)[0].key, "task": task.pk})
    return {"clients": clients}


def _verify(payload: dict) -> dict:
    from annotator import selectors
    from annotator.models import Correction, PartValidity, Task

    answered = {int(k): v for k, v in payload["answered"].items()}  # task id -> [[correction id, revision], ...]
    problems: list[str] = []
    n_rows = 0
    for task in Task.objects.filter(pk__in=answered):
        rows = list(Correction.objects.filter(task=task).order_by("revision"))
        n_rows += len(rows)
        by_id = {c.pk: c for c in rows}
        told = answered[task.pk]
        for correction_id, revision in told:
            row = by_id.get(correction_id)
            if row is None or row.revision != revision:
                problems.append(
                    f"task {task.pk}: correction {correction_id} (revision {revision}) answered 201 is lost"
                )
        if len(rows) != len(told):
            problems.append(f"task {task.pk}: {len(rows)} corrections stored, its client was told of {len(told)}")
        revisions = [c.revision for c in rows]
        if len(set(revisions)) != len(revisions):
            problems.append(f"task {task.pk}: two corrections share a revision")
        if rows and task.revision < revisions[-1]:
            problems.append(f"task {task.pk}: head revision {task.revision} is behind its history ({revisions[-1]})")
        replay = selectors.task_state_replay(rows, PartValidity.objects.filter(task=task))
        state = selectors.task_state(task=task)
        if state.points != replay.points or state.validity != replay.validity:
            problems.append(f"task {task.pk}: its state differs from the replay of its history")
    return {"problems": problems, "rows": n_rows}


# --- the load itself --------------------------------------------------------------------------------


async def _annotator(client, info: dict, deadline: float, seed: int, stats: dict, think_s: float = 0.0) -> None:
    import httpx

    rng = random.Random(seed)
    headers = {"Authorization": f"Token {info['token']}"}
    task_url = f"/api/tasks/{info['task']}/"
    payload = (await client.get(task_url, headers=headers)).json()
    revision = payload["revision"]
    views = [(v["id"], v["width"], v["height"]) for v in payload["views"]]
    n_keypoints = payload["layout"]["num_keypoints"]
    told: list[list[int]] = stats["answered"].setdefault(info["task"], [])
    n_writes = 0
    while time.monotonic() < deadline:
        n_writes += 1
        if n_writes % UNDO_EVERY == 0:
            path, body = f"{task_url}undo/", {"base_revision": revision}
        else:
            view, width, height = rng.choice(views)
            path = f"{task_url}corrections/"
            body = {"view": view, "keypoint": rng.randrange(n_keypoints), "x": rng.uniform(0, width),
                    "y": rng.uniform(0, height), "base_revision": revision}  # fmt: skip
        started = time.perf_counter()
        try:
            response = await client.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            stats["errors"].append(f"{path}: {type(exc).__name__} {exc}")
            continue
        stats["latencies"].append(time.perf_counter() - started)
        stats["statuses"][response.status_code] = stats["statuses"].get(response.status_code, 0) + 1
        if response.status_code in (200, 201):
            answer = response.json()
            revision = answer["revision"]
            if answer.get("correction"):
                told.append([answer["correction"]["id"], answer["correction"]["revision"]])
        elif response.status_code == 409:
            revision = response.json()["extra"]["current_revision"]
        elif response.status_code >= 500:
            stats["errors"].append(f"{path}: {response.status_code} {response.text[:300]}")
        if think_s:  # a person looks before the next drag (exponential, mean think_s)
            await asyncio.sleep(min(rng.expovariate(1.0 / think_s), max(0.0, deadline - time.monotonic())))


async def _drive(url: str, clients: list[dict], seconds: float, answered: dict, think_s: float = 0.0) -> dict:
    import httpx

    stats: dict = {"latencies": [], "statuses": {}, "errors": [], "answered": answered}
    limits = httpx.Limits(max_connections=len(clients) + 4)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_annotator(client, info, deadline, i, stats, think_s) for i, info in enumerate(clients)))
        stats["elapsed"] = time.monotonic() - started
    return stats


def _figures(stats: dict) -> dict:
    latencies = np.array(stats["latencies"]) * 1000.0
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if latencies.size else (np.nan,) * 3
    return {
        "seconds": round(stats["elapsed"], 1),
        "requests": int(latencies.size),
        "throughput_rps": latencies.size / stats["elapsed"],
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
    }


def _descendants_cpu_s() -> float | None:
    """CPU seconds used so far by this process's descendants still running (the server's processes), from
    /proc; None where there is no /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    return sum(times[pid] for pid in mine)


def _cpu_now() -> tuple[float | None, float]:
    """(server CPU seconds, this client's CPU seconds) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return _descendants_cpu_s(), usage.ru_utime + usage.ru_stime


def _cpu_ms_per_write(before: tuple, after: tuple, writes: int) -> dict:
    """Server and client CPU milliseconds per write between two ``_cpu_now`` readings."""
    server = None if before[0] is None or after[0] is None else (after[0] - before[0]) / max(writes, 1) * 1000
    return {"server": server, "client": (after[1] - before[1]) / max(writes, 1) * 1000}


def _server_config() -> dict:
    """What ``manage.py serve`` runs with here (processes x threads per process, the channel layer)."""
    workers = int(os.environ.get("DJANGO_WEB_WORKERS") or 0)
    if not workers:
        workers = min(4, (os.cpu_count() or 1) + 1) if os.environ.get("REDIS_URL") else 1
    return {
        "workers": workers,
        "threads": int(os.environ.get("DJANGO_WEB_THREADS") or 8),
        "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
    }


def run(
    *,
    database_url: str,
    clients: int,
    seconds: float,
    solo_seconds: float = 15.0,
    think_ms: float = 0.0,
    workdir: Path | None = None,
) -> dict:
    """Prepare, serve, load (one client alone, then ``clients`` together) and verify; returns the report.

    ``think_ms``: mean pause of each client between writes (0: back to back, the server's capacity)."""
    load_before = os.getloadavg()[0]
    load_url = recreate_database(database_url)
    answered: dict = {}
    try:
        prepared = _django(load_url, "prepare", {"clients": clients})
        with tempfile.TemporaryDirectory() as tmp:
            with live.serve(Path(workdir or tmp), database_url=load_url, workers=None) as url:
                marks = [_cpu_now()]
                solo = asyncio.run(_drive(url, prepared["clients"][:1], solo_seconds, answered, think_ms / 1000))
                marks.append(_cpu_now())
                crowd = asyncio.run(_drive(url, prepared["clients"], seconds, answered, think_ms / 1000))
                marks.append(_cpu_now())
        checked = _django(load_url, "verify", {"answered": answered})
    finally:
        drop_database(database_url)
    statuses: dict[int, int] = {}
    for phase in (solo, crowd):
        for code, n in phase["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    alone, together = _figures(solo), _figures(crowd)
    alone["cpu_ms_per_write"] = _cpu_ms_per_write(marks[0], marks[1], alone["requests"])
    together["cpu_ms_per_write"] = _cpu_ms_per_write(marks[1], marks[2], together["requests"])
    return {
        "clients": clients,
        "think_ms": think_ms,
        "load_average_before": load_before,
        "server": _server_config(),
        "solo": alone,
        **together,
        # None where one annotator alone wrote nothing (the report's statuses and errors say why).
        "throughput_ratio": together["throughput_rps"] / alone["throughput_rps"] if alone["requests"] else None,
        "p95_over_solo_p50": together["p95_ms"] / alone["p50_ms"] if alone["requests"] else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "errors": (solo["errors"] + crowd["errors"])[:20],
        "corrections_answered": sum(len(v) for v in answered.values()),
        "corrections_stored": checked["rows"],
        "problems": checked["problems"][:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of all clients together")
    parser.add_argument("--solo-seconds", type=float, default=15.0, help="seconds of one client alone, first")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="mean pause of each client between writes (default 0: back to back)")  # fmt: skip
    parser.add_argument("--step", choices=("prepare", "verify"), help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        import django

        django.setup()
        payload = json.loads(Path(args.payload).read_text())
        print(json.dumps(_prepare(payload) if args.step == "prepare" else _verify(payload)))
        return
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (the run creates <name>_load beside it)")
    report = run(database_url=database_url, clients=args.clients, seconds=args.seconds,
                 solo_seconds=args.solo_seconds, think_ms=args.think_ms)  # fmt: skip
    server, solo = report["server"], report["solo"]
    print(f"server: {server['workers']} process(es) x {server['threads']} threads, {server['channel_layer']} "
          f"channel layer; {os.cpu_count()} cores, load average {report['load_average_before']:.2f} before the run; "
          f"think time {report['think_ms']:g} ms")  # fmt: skip
    for label, r in (("1 annotator", solo), (f"{report['clients']} annotators", report)):
        print(f"{label:>14} x {r['seconds']} s: {r['requests']} writes, {r['throughput_rps']:.1f} req/s; "
              f"latency p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms")  # fmt: skip
    cpu = solo["cpu_ms_per_write"]
    if cpu["server"] is not None:
        busy = (cpu["server"] + cpu["client"]) * solo["throughput_rps"] / 1000
        print(
            f"CPU per write with one annotator: server {cpu['server']:.1f} ms, client {cpu['client']:.1f} ms "
            f"(the database's not counted): one annotator alone keeps {busy:.2f} of {os.cpu_count()} cores busy"
        )
    if report["throughput_ratio"] is None:
        print("no ratios: one annotator alone wrote nothing (see the statuses and errors)")
    else:
        print(
            f"throughput {report['throughput_ratio']:.2f}x one annotator's (target >= {TARGET_THROUGHPUT_RATIO:g}x); "
            f"p95 {report['p95_over_solo_p50']:.2f}x one annotator's p50 (target <= {TARGET_P95_OVER_SOLO_P50:g}x)"
        )
    print(f"statuses {report['statuses']}; corrections answered 201: {report['corrections_answered']}, "
          f"stored: {report['corrections_stored']}")  # fmt: skip
    if report["server_errors"] or report["errors"] or report["problems"]:
        print("FAILED:", json.dumps({k: report[k] for k in ("errors", "problems")}, indent=2))
        sys.exit(1)
    print("no 5xx, nothing lost: every task's state equals the replay of its history")


if __name__ == "__main__":
    main()
