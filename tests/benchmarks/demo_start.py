"""The demo's first start: ``python -m tests.benchmarks.demo_start [--demo-args "--frames 40"]``.

Does what ``make demo`` does after the install, on a fresh ``DJANGO_VAR_DIR`` in a temporary folder: migrate,
``make_demo`` (render the synthetic rig, import it, accounts and tasks), then daphne and the task worker, and
times each step until the first page answers (``/accounts/login/``, then an annotator's task list). The
installed ``.venv`` is reused, as it is on a second ``make demo``; the README's "Two commands" quotes the result.
Target: about a minute to the first page on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TARGET_S = 60.0
#: Seconds to wait for the server once make_demo is done.
START_TIMEOUT_S = 120


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, done.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-args", default="", help='make_demo options, as DEMO_ARGS (e.g. "--frames 40")')
    args = parser.parse_args(argv)
    var = Path(tempfile.mkdtemp(prefix="bench-demo-start-"))
    env = {**os.environ, "DJANGO_VAR_DIR": str(var), "PYTHONPATH": str(ROOT)}
    # Like make demo: the development settings and their own SQLite file under the fresh var/.
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    port = _free_port()
    procs: list[subprocess.Popen] = []
    log = open(var / "serve.log", "ab")  # noqa: SIM115 - closed with the processes below
    try:
        started = time.perf_counter()
        migrate_s, _ = _run(["migrate", "--no-input"], env)
        demo_s, demo_out = _run(["make_demo", *shlex.split(args.demo_args)], env)
        serve_started = time.perf_counter()
        daphne = Path(PYTHON).with_name("daphne")
        procs.append(subprocess.Popen([PYTHON, "manage.py", "db_worker"], cwd=ROOT, env=env, stdout=log, stderr=log))
        procs.append(subprocess.Popen([str(daphne), "-b", "127.0.0.1", "-p", str(port), "annotator.asgi:application"],
                                      cwd=ROOT, env=env, stdout=log, stderr=log))  # fmt: skip
        url = f"http://127.0.0.1:{port}/accounts/login/"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the server did not answer; see {var / 'serve.log'}") from None
                time.sleep(0.1)
        first_page = time.perf_counter() - started
        serve_s = time.perf_counter() - serve_started
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
        print(f"\n{'make_demo options':<30}{args.demo_args or '(defaults)'}")
        print(f"{'migrate':<30}{migrate_s:6.1f} s")
        print(f"{'make_demo (render + import)':<30}{demo_s:6.1f} s")
        for line in demo_out.splitlines():
            if line.startswith(("rendered", "dataset ")):
                print(f"{'':<30}{line}")
        print(f"{'server up':<30}{serve_s:6.1f} s")
        print(f"{'first page after':<30}{first_page:6.1f} s   (target about {TARGET_S:.0f} s; load {load})")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
