"""URLs have one owner, the URLconf: Python code gets them from ``reverse`` (websockets: ``api.routing.socket_path``).

``test_no_module_spells_out_a_url`` reads every string literal (f-strings included; docstrings are prose) of
the Python code under annotator/, api/ and frontend/ and fails on one that starts like a route of the site
(``"/api/..."``, ``f"/tasks/{pk}/"``, ``"/ws/jobs/"``): such a string breaks silently when a route moves. The
route prefixes are read from the URLconf and the websocket routes, so a new top-level route is covered too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.urls import URLResolver, get_resolver, reverse

from api.routing import socket_path, websocket_urlpatterns
from frontend.views.common import url_prefix

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("annotator", "api", "frontend")
#: Files that may spell a URL out, each with its reason ("path": "why"). None needs to today: even the
#: settings name their URLs (LOGIN_URL = "login"). An exception whose file no longer spells one out fails.
ALLOWED: dict[str, str] = {}


def _first_segments(patterns, prefix: str = "") -> set[str]:
    """The first path segment of every route below ``patterns`` (``api`` of ``api/tasks/<id>/``)."""
    out: set[str] = set()
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver) and not route:
            out |= _first_segments(p.url_patterns, route)
            continue
        segment = route.lstrip("^").split("/", 1)[0]
        if re.fullmatch(r"[\w.-]+", segment):
            out.add(segment)
    return out


def _route_start() -> re.Pattern:
    segments = _first_segments(get_resolver().url_patterns) | _first_segments(websocket_urlpatterns)
    alternatives = "|".join(sorted(map(re.escape, segments)))
    return re.compile(rf"^/({alternatives})(/|$)")


def _docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, nodes) and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip


def hand_written_urls(source: str, route_start: re.Pattern) -> list[tuple[int, str]]:
    """(line, literal) of each string literal of ``source`` (f-string pieces included) that starts like a
    route of the site, docstrings left out."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        and route_start.match(node.value)
    ]  # fmt: skip


def test_route_prefixes_come_from_the_urlconf():
    start = _route_start()
    for path in ("/api/", "/tasks/", "/fbi/", "/review/", "/frames/", "/datasets/", "/exports/", "/ws/", "/admin/"):
        assert start.match(path), path
    assert not start.match("/proc/") and not start.match("/tmp/x") and not start.match("/apix/")


def test_the_guard_sees_f_strings_and_plain_literals_but_not_docstrings():
    start = _route_start()
    source = '''
"""Module docstring naming /api/tasks/ is prose."""
def f(pk):
    """Returns /tasks/<pk>/."""
    a = f"/tasks/{pk}/"
    b = "/api/jobs/"
    c = f"{base}/tasks/{pk}/"
    return request.path.startswith("/ws/")
'''
    assert sorted(line for line, _ in hand_written_urls(source, start)) == [5, 6, 7, 8]


def test_no_module_spells_out_a_url():
    start = _route_start()
    offenders, needed = [], set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            found = hand_written_urls(path.read_text(), start)
            if rel in ALLOWED:
                needed |= {rel} if found else set()
                continue
            offenders += [f"{rel}:{line}: {literal!r}" for line, literal in found]
    assert set(ALLOWED) <= needed, f"these spell out no URL any more, remove their exceptions: {set(ALLOWED) - needed}"
    assert offenders == [], "use reverse(name) (websockets: api.routing.socket_path):\n" + "\n".join(offenders)


def test_socket_paths_and_prefixes_follow_the_routes():
    assert socket_path("jobs") == "/ws/jobs/"
    assert socket_path("task", task_id=7) == "/ws/tasks/7/"
    assert url_prefix("frontend:frame", "frame_id") + "12/" == reverse("frontend:frame", kwargs={"frame_id": 12})
