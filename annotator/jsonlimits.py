"""JSON parsing with a bounded cost: a size, nesting-depth and value-count limit checked before parsing.

Python's ``json`` recurses once per nesting level (a body nested 1,100 deep raises RecursionError) and
its objects cost far more memory than their text (``[{},{},...]`` is about 30 bytes per byte). Every
JSON the tool reads from a request (HTTP bodies, websocket messages) goes through ``loads``, which
first measures the document without building it: its size, its deepest nesting and how many values it
holds, and refuses it with a ``JSONLimitError`` that says which limit it broke. Within the limits the
parsed value costs at most about ``4 * max_bytes + 100 * max_items`` bytes (strings up to 4 bytes per
character, about 100 bytes per container or number), and nothing can recurse deeper than ``max_depth``.

The measuring pass is vectorised (numpy over the bytes), so it costs a few milliseconds per megabyte
and nothing when the text is too small to break a limit. Pure: no Django.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)
_MARKS = np.frombuffer(b"[{]},", dtype=np.uint8)
_QUOTE = ord('"')
_BACKSLASH = ord("\\")
_COMMA = ord(",")


class JSONLimitError(ValueError):
    """A JSON document is malformed or beyond a limit; the message says which, for people."""


@dataclass(frozen=True)
class JSONLimits:
    """How much JSON one read may cost: bytes of text, nesting depth, values (containers and array or
    object members)."""

    max_bytes: int
    max_depth: int
    max_items: int

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_depth", "max_items"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class JSONShape:
    """What ``measure`` found: the deepest nesting and the number of values (an upper bound)."""

    depth: int
    items: int


def _strict_constant(name: str):
    raise JSONLimitError(f"{name} is not a JSON number; send finite numbers only")


def _unescaped_quotes(b: np.ndarray) -> np.ndarray:
    """Positions of the quotes of ``b`` not escaped by an odd run of backslashes, ascending."""
    quotes = np.flatnonzero(b == _QUOTE)
    slashes = np.flatnonzero(b == _BACKSLASH)
    if quotes.size == 0 or slashes.size == 0:
        return quotes
    # Runs of consecutive backslashes: where each ends and how long it is.
    breaks = np.flatnonzero(np.diff(slashes) != 1)
    ends = np.append(slashes[breaks], slashes[-1])
    starts = np.insert(slashes[breaks + 1], 0, slashes[0])
    odd_ends = ends[(ends - starts + 1) % 2 == 1]
    return quotes[~np.isin(quotes, odd_ends + 1)]


def measure(data: bytes) -> JSONShape:
    """The nesting depth and value count of the JSON text ``data`` (UTF-8), without parsing it.

    Brackets and commas inside strings are not counted: a quote preceded by an odd run of backslashes
    is escaped, every other quote opens or closes a string. For valid JSON the depth is exact and the
    count is an upper bound (containers plus separators plus one); for invalid JSON both agree with the
    parser up to the first error, which is as far as the parser gets. Memory: a few bytes per bracket,
    comma, quote and backslash, never a copy of the structure.
    """
    b = np.frombuffer(data, dtype=np.uint8)  # (n,)
    quotes = _unescaped_quotes(b)
    marks = np.flatnonzero(np.isin(b, _MARKS))  # brackets and commas, ascending
    if quotes.size:
        marks = marks[np.searchsorted(quotes, marks) % 2 == 0]  # an even number of quotes before: outside
    kinds = b[marks]
    steps = np.isin(kinds, _OPEN).astype(np.int8) - np.isin(kinds, _CLOSE).astype(np.int8)
    depth = int(np.cumsum(steps, dtype=np.int64).max(initial=0))
    items = int(np.count_nonzero(steps == 1)) + int(np.count_nonzero(kinds == _COMMA)) + 1
    return JSONShape(depth, items)


def check(data: bytes, limits: JSONLimits, *, what: str = "the JSON") -> None:
    """Raise ``JSONLimitError`` if ``data`` is over any of ``limits``; cheap when it is obviously not."""
    if len(data) > limits.max_bytes:
        raise JSONLimitError(f"{what} is {len(data)} bytes; the limit is {limits.max_bytes} bytes")
    # Upper bounds from plain counts (C speed): most documents are far inside both limits.
    brackets = data.count(b"[") + data.count(b"{")
    if brackets <= limits.max_depth and brackets + data.count(b",") + 1 <= limits.max_items:
        return
    shape = measure(data)
    if shape.depth > limits.max_depth:
        raise JSONLimitError(f"{what} is nested {shape.depth} levels deep; the limit is {limits.max_depth}")
    if shape.items > limits.max_items:
        raise JSONLimitError(f"{what} holds {shape.items} values; the limit is {limits.max_items}")


def loads(data: bytes | str, limits: JSONLimits, *, what: str = "the JSON") -> Any:
    """Parse ``data`` after ``check``; NaN and Infinity are refused like any other malformed input.

    Raises ``JSONLimitError`` (a ``ValueError``) for text that is over a limit, not UTF-8 or not JSON.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    check(raw, limits, what=what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONLimitError(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        return json.loads(text, parse_constant=_strict_constant)
    except JSONLimitError:
        raise
    except (ValueError, RecursionError) as exc:
        # RecursionError cannot happen within max_depth; kept so that a misconfigured limit fails as a 4xx.
        raise JSONLimitError(f"{what} is not valid JSON: {exc}") from None
