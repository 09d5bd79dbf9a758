"""Shared test fixtures and the rule for missing services.

Tests that need something the machine may lack (PostgreSQL, Redis, Chromium) call ``require``.
Locally a missing service skips the test with the reason; when ``REQUIRE_SERVICES`` names it (CI),
it fails the test instead, so CI cannot go green by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ``REQUIRE_SERVICES=1`` requires everything; a comma list (``chromium,postgresql,redis``) names what.
_REQUIRED = {s.strip() for s in os.environ.get("REQUIRE_SERVICES", "").split(",") if s.strip()}
SERVICES = ("chromium", "postgresql", "redis")


def required(service: str) -> bool:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    return "1" in _REQUIRED or service in _REQUIRED


def require(condition: bool, service: str, reason: str) -> None:
    """Skip the calling test unless ``condition`` holds; fail it instead when ``service`` is required."""
    if condition:
        return
    if required(service):
        pytest.fail(f"REQUIRE_SERVICES asks for {service}, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (password throttles count per client address across requests)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def users(db):
    """One user per role: two annotators ("annotator", "other"), a reviewer and an admin."""
    from annotator import roles
    from annotator.services.users import user_ensure

    spec = {
        "annotator": ("ann", "pw-ann-123", roles.ANNOTATOR),
        "other": ("ann2", "pw-ann2-123", roles.ANNOTATOR),
        "reviewer": ("rev", "pw-rev-123", roles.REVIEWER),
        "admin": ("admin", "pw-admin-123", roles.ADMIN),
    }
    return {key: user_ensure(username=u, password=p, role=r)[0] for key, (u, p, r) in spec.items()}


@pytest.fixture
def frames(db, tmp_path):
    """Three imported frames on the Human3.6M rigs (see tests/annotator/services/task_data.py)."""
    from tests.annotator.services.task_data import import_frames

    return import_frames(tmp_path)


@pytest.fixture
def task(frames, users):
    """A correction task on the first frame for the annotator."""
    from tests.annotator.services.task_data import make_task

    return make_task(frames[0], users["annotator"])


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
#: Flags that keep Chromium from reaching for the network (closed here) or a sandbox (we run as root).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (skipped, or failed under REQUIRE_SERVICES=1, when absent).

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is open,
    which would break the asyncio tests that pytest-django schedules after the browser tests.
    """
    require(Path(CHROMIUM).exists(), "chromium", f"Chromium is not installed at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots and other files a test leaves for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
