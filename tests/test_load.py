"""A short, bounded run of the load test (tests/benchmarks/load.py) on PostgreSQL: simulated annotators
correcting their own tasks through the app's server (``manage.py serve``: several processes under CI's
Redis, threads in each) on loopback. No 5xx, and nothing lost: every correction answered 201 is in the audit
trail and every task's state equals the replay of its history. Speed is the benchmark's business, not this
test's: the full run (one annotator alone, then 20 x 60 s, with figures and ratios) is
``python -m tests.benchmarks.load``.

Needs PostgreSQL (``DATABASE_URL``): skipped on the embedded defaults, required under ``REQUIRE_SERVICES``.
"""

from __future__ import annotations

import os

import pytest

from tests.benchmarks import load
from tests.conftest import require

#: Simulated annotators and seconds of load in CI (bounded: CI has two cores), after one alone.
CLIENTS = 8
SECONDS = 8.0
SOLO_SECONDS = 2.0

pytestmark = pytest.mark.services


def test_concurrent_annotators_lose_nothing(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    require(database_url.startswith("postgres"), "postgresql", "DATABASE_URL does not name a PostgreSQL database")
    report = load.run(
        database_url=database_url, clients=CLIENTS, seconds=SECONDS, solo_seconds=SOLO_SECONDS, workdir=tmp_path
    )
    print(report)
    assert report["requests"] > CLIENTS and report["solo"]["requests"] > 0, report
    assert report["server_errors"] == 0 and report["errors"] == [], report
    assert report["problems"] == [], report
    assert report["corrections_answered"] == report["corrections_stored"] > 0, report
    # Each annotator edits only their own task: nobody's write may conflict.
    assert "409" not in report["statuses"], report
