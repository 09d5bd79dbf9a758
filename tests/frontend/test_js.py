"""The front end's pure modules under node's own test runner: geometry, state, socket, the editor's write
queue and key map, and the modules the page scripts share."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require
from tests.frontend.js import make_fixtures

JS_TESTS = Path(__file__).resolve().parent / "js"
#: node runs the whole folder in well under a second; this is for a wedged process.
TIMEOUT_S = 120
STALE = "tests/frontend/js/geometry.json is stale: run python -m tests.frontend.js.make_fixtures"

#: How far a stored number may lie from today's Python and still count as the same geometry. The
#: node tests hold geometry.js to the fixture within 1e-6 px (projections, curves) and 1e-9 in
#: normalised coordinates; the fixture must stay ten times closer to the Python than that, so the
#: browser stays within about 1.1e-6 px of annotator.geometry. OpenBLAS picks its kernels by CPU,
#: so the last bits of a float (about 1e-13 px here) differ between machines: far inside these.
PIXEL_ATOL = 1e-7
NORMALIZED_ATOL = 1e-10
#: Inputs (cameras, world points, depths) are copied, not computed: relative 1e-12 is "the same number".
INPUT_RTOL = 1e-12


def _tolerance(path: tuple) -> dict:
    if "normalized" in path:
        return {"rtol": 0.0, "atol": NORMALIZED_ATOL}
    if any(key in path for key in ("projections", "epipolar")):
        return {"rtol": 0.0, "atol": PIXEL_ATOL}
    return {"rtol": INPUT_RTOL, "atol": 0.0}


def assert_same_numbers(stored, fresh, path: tuple = ()) -> None:
    """Walks two parsed JSON trees: same structure and strings exactly, numbers within their tolerance.

    A missing point (``null``: behind the camera) must be missing in both; a different key, length or
    camera model fails with the path that differs.
    """
    where = "/".join(map(str, path)) or "<root>"
    if isinstance(stored, dict):
        assert isinstance(fresh, dict) and stored.keys() == fresh.keys(), f"{STALE}: keys differ at {where}"
        for key in stored:
            assert_same_numbers(stored[key], fresh[key], (*path, key))
    elif isinstance(stored, list) and stored and all(isinstance(v, int | float) for v in stored):
        assert isinstance(fresh, list) and len(fresh) == len(stored), f"{STALE}: length differs at {where}"
        np.testing.assert_allclose(np.asarray(fresh, float), np.asarray(stored, float), **_tolerance(path),
                                   err_msg=f"{STALE}: numbers differ at {where}")  # fmt: skip
    elif isinstance(stored, list):
        assert isinstance(fresh, list) and len(fresh) == len(stored), f"{STALE}: length differs at {where}"
        for i, (a, b) in enumerate(zip(stored, fresh)):
            assert_same_numbers(a, b, (*path, i))
    elif isinstance(stored, bool) or stored is None or isinstance(stored, str):
        assert stored == fresh, f"{STALE}: {stored!r} != {fresh!r} at {where}"
    else:
        np.testing.assert_allclose(float(fresh), float(stored), **_tolerance(path), err_msg=f"{STALE}: at {where}")


def test_geometry_fixture_is_up_to_date():
    """geometry.json holds, within the browser's precision, what make_fixtures.py computes today.

    Compared by value, never as text: the last digits of a projection depend on the CPU's BLAS kernel.
    """
    assert_same_numbers(json.loads(make_fixtures.PATH.read_text()), make_fixtures.build())


class FixtureComparisonTests:
    """The comparison above still catches a real change of geometry, and tolerates only last bits."""

    @pytest.fixture(scope="class")
    def fixture(self):
        return json.loads(make_fixtures.PATH.read_text())

    def test_last_bit_differences_pass(self, fixture):
        fresh = json.loads(json.dumps(fixture))
        for row in fresh["models"]["h36m"]["projections"][0]:
            if row is not None:
                row[0] = float(np.nextafter(np.nextafter(row[0], np.inf), np.inf))
        assert_same_numbers(fixture, fresh)

    @pytest.mark.parametrize(
        "path, delta",
        [
            (("models", "h36m", "projections", 1, 3, 0), 2e-7),  # a projected point moved by 0.2 micro-px
            (("models", "opencv", "epipolar", 2, "curve", 5, 1), 1e-6),
            (("models", "h36m", "normalized", 0, 0, 1), 1e-9),
            (("models", "h36m", "cameras", 0, "dist", 0), 1e-9),  # another lens
        ],
    )
    def test_a_moved_number_fails(self, fixture, path, delta):
        fresh = json.loads(json.dumps(fixture))
        node = fresh
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] += delta
        with pytest.raises(AssertionError, match="stale"):
            assert_same_numbers(fixture, fresh)

    def test_another_lens_model_fails(self, fixture):
        fresh = json.loads(json.dumps(fixture))
        fresh["models"]["opencv"]["cameras"][0]["model"] = "h36m"
        with pytest.raises(AssertionError, match="stale"):
            assert_same_numbers(fixture, fresh)

    def test_a_point_that_becomes_visible_fails(self, fixture):
        fresh = json.loads(json.dumps(fixture))
        rows = fresh["models"]["h36m"]["projections"][0]
        rows[0] = None if rows[0] is not None else [1.0, 2.0]
        with pytest.raises(AssertionError, match="stale"):
            assert_same_numbers(fixture, fresh)


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
