"""The front end's pure modules (geometry.js, state.js, socket.js) under node's own test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require
from tests.frontend.js import make_fixtures

JS_TESTS = Path(__file__).resolve().parent / "js"
#: node runs the whole folder in well under a second; this is for a wedged process.
TIMEOUT_S = 120


def test_geometry_fixture_is_up_to_date():
    """geometry.json is what make_fixtures.py writes from today's annotator.geometry."""
    assert make_fixtures.PATH.read_text() == make_fixtures.render(), (
        "tests/frontend/js/geometry.json is stale: run python -m tests.frontend.js.make_fixtures"
    )


def test_node_unit_tests():
    node = shutil.which("node")
    require(node is not None, "chromium", "node is not installed (it comes with the browser toolchain)")
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(JS_TESTS)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=JS_TESTS.parent.parent.parent,
    )
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert "# fail 0" in result.stdout or "ℹ fail 0" in result.stdout
