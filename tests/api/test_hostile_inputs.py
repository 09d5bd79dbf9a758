"""Hostile input against every operation of the API, enumerated from its OpenAPI schema: no 5xx, and every
refusal is a JSON 4xx that names what was wrong.

* Every number, string and list a request may carry is bounded in the schema (the class of "a number too big
  for the database column" and "a string too long for it"): a new input field without bounds fails here.
* Every such number in a query or body is sent as a boolean, a 23-digit integer, 1e308, an overflowing
  integer, a fraction, NaN and Infinity: each is a 400 that names the field.
* Every path id is sent with 19 and 23 digits: a JSON 404, like an id that does not exist.
* Every JSON body is sent nested 1,100 and 100,000 levels deep (the depth at which Python's parser raises
  RecursionError, and far beyond): a 400 that says so, without the memory growing.

Random hostile values (tiny, huge, booleans, deep nesting; tests/api/hostile.py) are mixed into schemathesis'
generated requests by ``test_schemathesis.py``'s hook.
"""

from __future__ import annotations

import json
import re
import resource

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework import status
from rest_framework.test import APIClient

from api.fields import MAX_ID_DIGITS
from tests.api.hostile import HUGE_IDS, REFUSED_INTEGERS, REFUSED_NUMBERS, nested
from tests.api.test_permission_matrix import world  # noqa: F401 - the fixture: tasks, export, study, job

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return {**_resolve(schema["allOf"][0]), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def operations():
    """(method, path template, operation) of every operation in the schema."""
    for path, item in sorted(SCHEMA["paths"].items()):
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def inputs():
    """(method, path, where, name, schema) of every query parameter, path parameter and body field."""
    for method, path, op in operations():
        for param in op.get("parameters", []):
            yield method, path, param["in"], param["name"], _resolve(param["schema"])
        content = op.get("requestBody", {}).get("content", {})
        for media, body in content.items():
            where = "json" if media == "application/json" else "form"
            if where == "form" and "application/json" in content:
                continue  # the same serializer, checked once
            for name, field in _resolve(body["schema"]).get("properties", {}).items():
                yield method, path, where, name, _resolve(field)


def _bounds_missing(schema: dict) -> str | None:
    kind = schema.get("type")
    # Files: drf-spectacular writes a request's file field as a "uri" string (the upload has its own limit).
    if "enum" in schema or kind == "boolean" or schema.get("format") in ("binary", "uri") or schema.get("readOnly"):
        return None
    if kind in ("integer", "number") and not ("minimum" in schema and "maximum" in schema):
        return "a number without minimum and maximum"
    if kind == "string" and "maxLength" not in schema:
        return "a string without maxLength"
    if kind == "array":
        if "maxItems" not in schema:
            return "a list without maxItems"
        return _bounds_missing(_resolve(schema.get("items", {})))
    return None


def test_every_input_a_request_carries_is_bounded():
    missing = sorted({
        f"{method.upper()} {path} {where} {name}: {problem}"
        for method, path, where, name, schema in inputs()
        if (problem := _bounds_missing(schema))
    })  # fmt: skip
    assert not missing, "bound these fields (api/fields.py; max_length on strings and lists):\n" + "\n".join(missing)


def test_every_json_body_goes_through_the_limited_parser():
    """A view that names its own parsers (DRF's token view does) must keep JSON bounded too."""
    from django.urls import get_resolver

    from api.parsers import LimitedJSONParser

    def views(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern)
            elif getattr(pattern.callback, "cls", None) is not None:
                yield pattern.callback.cls

    unbounded = [
        f"{view.__module__}.{view.__name__}: {parser.__name__}"
        for view in views(get_resolver())
        for parser in getattr(view, "parser_classes", [])
        if "json" in parser.media_type and not issubclass(parser, LimitedJSONParser)
    ]
    assert not unbounded


def test_the_path_converters_and_their_schemas_agree():
    from django.conf import settings

    from annotator import names
    from api.fields import ID_PATH_SCHEMA, NAME_PATH_SCHEMA, IdConverter, NameConverter

    overrides = settings.SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]
    assert overrides == {"id": ID_PATH_SCHEMA, "name": NAME_PATH_SCHEMA}
    assert re.fullmatch(IdConverter.regex, "9" * MAX_ID_DIGITS) and not re.fullmatch(IdConverter.regex, "9" * 19)
    longest = "a" * names.MAX_NAME_LENGTH
    assert re.fullmatch(NameConverter.regex, longest) and not re.fullmatch(NameConverter.regex, longest + "a")
    assert not re.fullmatch(NameConverter.regex, "<img src=x>")


def _admin(world) -> APIClient:  # noqa: F811 - the fixture's value
    client = APIClient()
    client.force_authenticate(world["users"]["admin"])
    return client


def _fill(world, path: str) -> str:  # noqa: F811
    kwargs = dict(world["kwargs"])
    if "/fbi/" in path and path.startswith("/api/tasks/"):
        kwargs["task_id"] = world["fbi_task"].pk
    return re.sub(r"\{(\w+)\}", lambda m: str(kwargs[m.group(1)]), path)


def _assert_json_error(response, where: str, status_code: int, *fragments: str) -> None:
    assert response.status_code == status_code, f"{where}: {response.status_code} {response.content[:300]!r}"
    assert response["Content-Type"].startswith("application/json"), f"{where}: {response['Content-Type']}"
    message = response.json()["message"]
    for fragment in fragments:
        assert fragment in message, f"{where}: {fragment!r} not in {message!r}"


NUMBER_INPUTS = [
    pytest.param(method, path, where, name, schema["type"], id=f"{method} {path} {where}:{name}")
    for method, path, where, name, schema in inputs()
    if schema.get("type") in ("integer", "number") and where in ("query", "json")
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "where", "name", "kind"), NUMBER_INPUTS)
def test_every_number_refuses_what_no_column_or_computation_can_hold(world, method, path, where, name, kind):  # noqa: F811
    client = _admin(world)
    url = _fill(world, path)
    for value in REFUSED_INTEGERS if kind == "integer" else REFUSED_NUMBERS:
        if where == "query":
            text = json.dumps(value) if not isinstance(value, str) else value
            response = client.generic(method.upper(), f"{url}?{name}={text}")
        else:
            response = client.generic(method.upper(), url, json.dumps({name: value}), content_type="application/json")
        _assert_json_error(response, f"{method} {url} {name}={str(value)[:30]}", status.HTTP_400_BAD_REQUEST, name)


ID_PATHS = sorted(
    {(method, path) for method, path, where, name, _ in inputs() if where == "path" and name.endswith("_id")}
)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ID_PATHS, ids=[f"{m} {p}" for m, p in ID_PATHS])
def test_an_id_of_any_length_is_a_json_404(world, method, path):  # noqa: F811
    client = _admin(world)
    for huge in HUGE_IDS:
        url = re.sub(r"\{(\w+)\}", lambda m, h=huge: h if m[1].endswith("_id") else str(world["kwargs"][m[1]]), path)
        response = client.generic(method.upper(), url, "{}", content_type="application/json")
        _assert_json_error(response, f"{method} {url}", status.HTTP_404_NOT_FOUND, "no")


JSON_BODIES = sorted({(method, path) for method, path, where, _, _ in inputs() if where == "json"})


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), JSON_BODIES, ids=[f"{m} {p}" for m, p in JSON_BODIES])
def test_deeply_nested_bodies_are_refused_before_they_are_parsed(world, method, path):  # noqa: F811
    client = _admin(world)
    url = _fill(world, path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for depth in (1_100, 100_000):
        for body in ("[" * depth + "]" * depth, '{"a":' * depth + "0" + "}" * depth, "[" * depth):
            response = client.generic(method.upper(), url, body, content_type="application/json")
            if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
                continue
            _assert_json_error(response, f"{method} {url} depth {depth}", 400, f"nested {depth} levels deep")
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000, f"{path}: the peak memory grew by {grown_kb} KB"


@pytest.mark.django_db
class JsonBodyTests:
    """What every JSON body goes through (api/parsers.py), shown on the busiest endpoint."""

    @pytest.fixture
    def url(self, world):  # noqa: F811
        return f"/api/tasks/{world['task'].pk}/corrections/"

    @pytest.fixture
    def client(self, world):  # noqa: F811
        client = APIClient()
        client.force_authenticate(world["users"]["annotator"])
        return client

    def test_too_many_values(self, client, url):
        body = json.dumps({"view": 1, "pad": [0] * 20_000})
        response = client.post(url, body, content_type="application/json")
        _assert_json_error(response, url, 400, "holds 20003 values; the limit is 10000")

    def test_nan_and_infinity_are_not_numbers(self, client, url):
        for text in ('{"x": NaN}', '{"x": Infinity}', '{"y": -Infinity}'):
            _assert_json_error(client.post(url, text, content_type="application/json"), text, 400, "not a JSON number")

    def test_a_body_that_is_not_utf8(self, client, url):
        body = json.dumps({"base_revision": 0}).encode("utf-16")
        response = client.post(url, body, content_type="application/json; charset=utf-16")
        _assert_json_error(response, url, 400, "JSON bodies must be UTF-8")
        response = client.post(url, b'{"a": "\xff"}', content_type="application/json")
        _assert_json_error(response, url, 400, "not UTF-8")

    def test_over_the_byte_limit_is_413_before_parsing(self, client, url):
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100):
            response = client.post(url, "[" * 200, content_type="application/json")
        _assert_json_error(response, url, 413, "over the limit of 100 bytes")

    def test_malformed_json_says_where(self, client, url):
        response = client.post(url, '{"view": 1,', content_type="application/json")
        _assert_json_error(response, url, 400, "is not valid JSON")


@pytest.mark.django_db
class UnknownPathTests:
    @pytest.mark.parametrize("debug", [False, True])
    def test_an_unknown_api_path_is_the_json_error_with_debug_on_or_off(self, world, debug):  # noqa: F811
        with override_settings(DEBUG=debug):
            for path in ("/api/nothing/here/", "/api/tasks/abc/", "/api/tasks/1/nope/"):
                _assert_json_error(_admin(world).get(path), path, 404, f"no API endpoint at {path}")

    def test_a_missing_final_slash_is_named(self, world):  # noqa: F811
        path = f"/api/tasks/{world['task'].pk}/corrections"
        response = _admin(world).post(path, "{}", content_type="application/json")
        _assert_json_error(response, path, 404, f"the endpoint is {path}/")

    def test_anonymous_callers_get_the_same_404(self):
        _assert_json_error(APIClient().get("/api/nothing/"), "/api/nothing/", 404, "no API endpoint")


def test_nested_builds_what_it_says():
    assert nested(3) == [[[0]]] and nested(0, "x") == "x"
