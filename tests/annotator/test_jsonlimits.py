"""JSON with a bounded cost (annotator/jsonlimits.py): depth, size and value count are measured before
parsing, exactly on valid JSON (checked against a plain reference scanner on generated documents), and
nothing in reach of a request can recurse or blow up memory."""

from __future__ import annotations

import json
import resource

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator import jsonlimits
from annotator.jsonlimits import JSONLimitError, JSONLimits

LIMITS = JSONLimits(max_bytes=1_000_000, max_depth=32, max_items=10_000)

#: JSON values of every kind, strings with the characters that confuse a scanner (quotes, backslashes,
#: brackets, commas), nested a few levels.
_TEXT = st.text(alphabet=st.sampled_from(list('ab"\\[]{},: \n\u00e9\U0001f600')), max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT
VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=30
)


def _reference_depth(text: str) -> int:
    """Nesting depth by walking the characters one by one (slow, obviously right)."""
    depth = best = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


def _count_values(value) -> int:
    if isinstance(value, list):
        return 1 + sum(_count_values(v) for v in value)
    if isinstance(value, dict):
        return 1 + sum(_count_values(v) for v in value.values())
    return 1


class MeasureTests:
    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(VALUES, st.booleans())
    def test_depth_is_exact_and_items_bound_the_values(self, value, ascii_only):
        text = json.dumps(value, ensure_ascii=ascii_only)
        shape = jsonlimits.measure(text.encode())
        assert shape.depth == _reference_depth(text)
        assert shape.items >= _count_values(value)
        assert jsonlimits.loads(text, JSONLimits(10**7, max(shape.depth, 1), max(shape.items, 1))) == value

    @pytest.mark.parametrize(
        ("text", "depth"),
        [
            ('"[[[["', 0),
            ('["\\\\", [[]]]', 3),  # an escaped backslash does not escape the closing quote
            ('["\\"[[[", []]', 2),  # an escaped quote does not close the string
            ('{"a": "\\\\\\"{{{"}', 1),
            ("", 0),
        ],
    )
    def test_strings_hide_brackets(self, text, depth):
        assert jsonlimits.measure(text.encode()).depth == depth


class LoadsTests:
    @pytest.mark.parametrize("depth", [33, 1_100, 100_000])
    def test_deep_nesting_is_refused_before_parsing(self, depth):
        for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth):
            with pytest.raises(JSONLimitError, match=f"nested {depth} levels deep; the limit is 32"):
                jsonlimits.loads(text, LIMITS)

    def test_at_the_limit_it_parses(self):
        assert jsonlimits.loads("[" * 32 + "]" * 32, LIMITS) is not None

    def test_too_many_values_are_refused(self):
        with pytest.raises(JSONLimitError, match="holds 20001 values; the limit is 10000"):
            jsonlimits.loads("[" + ",".join(["{}"] * 10_000) + "]", LIMITS)

    def test_too_many_bytes_are_refused(self):
        with pytest.raises(JSONLimitError, match="is 1000002 bytes; the limit is 1000000 bytes"):
            jsonlimits.loads('"' + "x" * 1_000_000 + '"', LIMITS)

    @pytest.mark.parametrize("text", ["[NaN]", '{"x": Infinity}', "-Infinity"])
    def test_non_finite_constants_are_refused(self, text):
        with pytest.raises(JSONLimitError, match="not a JSON number"):
            jsonlimits.loads(text, LIMITS)

    @pytest.mark.parametrize("data", [b'{"a": 1', b"\xff\xfe[]", b"[1,]", b"", b"'single'"])
    def test_malformed_text_is_a_limit_error_with_a_reason(self, data):
        with pytest.raises(JSONLimitError, match="not valid JSON|not UTF-8"):
            jsonlimits.loads(data, LIMITS)

    def test_the_measuring_pass_stays_small_on_a_hostile_megabyte(self):
        # Every byte a bracket, a quote or a backslash: the worst case for the measuring pass.
        hostile = [b"[" * 1_000_000, b'"\\"' * 333_333, b'["\\\\",' * 166_666]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for data in hostile:
            with pytest.raises(JSONLimitError):
                jsonlimits.loads(data, LIMITS)
        grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert grown_kb < 200_000, f"the peak memory grew by {grown_kb} KB for 1 MB documents"

    def test_limits_must_be_positive_integers(self):
        with pytest.raises(ValueError, match="max_depth must be a positive integer"):
            JSONLimits(max_bytes=10, max_depth=0, max_items=10)
        with pytest.raises(ValueError, match="max_items must be a positive integer"):
            JSONLimits(max_bytes=10, max_depth=1, max_items=True)
