"""A short, bounded run of the load test (tests/benchmarks/load.py) on PostgreSQL: simulated annotators
correcting their own tasks through daphne on loopback. No 5xx, and nothing lost: every correction answered
201 is in the audit trail and every task's state equals the replay of its history.

Needs PostgreSQL (``DATABASE_URL``): skipped on the embedded defaults, required under ``REQUIRE_SERVICES``.
The full run (20 annotators x 60 s, with figures) is ``python -m tests.benchmarks.load``.
"""

from __future__ import annotations

import os

import pytest

from tests.benchmarks import load
from tests.conftest import require

#: Simulated annotators and seconds of load in CI (bounded: CI has two cores).
CLIENTS = 8
SECONDS = 8.0

pytestmark = pytest.mark.services


def test_concurrent_annotators_lose_nothing(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    require(database_url.startswith("postgres"), "postgresql", "DATABASE_URL does not name a PostgreSQL database")
    report = load.run(database_url=database_url, clients=CLIENTS, seconds=SECONDS, workdir=tmp_path)
    print(report)
    assert report["requests"] > CLIENTS, report
    assert report["server_errors"] == 0 and report["errors"] == [], report
    assert report["problems"] == [], report
    assert report["corrections_answered"] == report["corrections_stored"] > 0, report
    # Each annotator edits only their own task: nobody's write may conflict.
    assert "409" not in report["statuses"], report
