"""Hostile request values, shared by tests/api/test_hostile_inputs.py (every field, deterministically) and
tests/api/test_schemathesis.py (mixed at random into schemathesis' generated requests).

Numbers far out of range, tiny and subnormal ones, booleans for numbers, strings that parse as non-finite
numbers, 23-digit ids, and JSON bodies nested past the API's depth limit.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st

from api.fields import MAX_ID_DIGITS

#: Numbers no field accepts (each is refused with a 400 naming the field); strings are how a query carries them.
REFUSED_NUMBERS = [True, False, 10**23, -(10**23), 2**63, 1e308, -1e308, 10**400, "1e999", "NaN", "-Infinity"]
REFUSED_INTEGERS = [*REFUSED_NUMBERS, 1.5, "1.5", "9" * 5000]
#: Path ids no object has: one past 18 digits, and 23 digits.
HUGE_IDS = ["9" * (MAX_ID_DIGITS + 1), "1" + "0" * 22]

#: Numbers far out of range, tiny and subnormal, booleans for numbers, strings that parse as non-finite numbers.
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from([*REFUSED_INTEGERS, 5e-324, -5e-324, 1e-300, 0.0, -0.0, 2**31, 2**63 - 1, 2**64, "0x10"]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
)
#: Depths of nested JSON bodies: past the API's limit (16), up to where the client's own encoder still copes.
HOSTILE_DEPTHS = st.integers(min_value=17, max_value=900)
#: What ``mutate`` does to a generated request: keep it, a hostile number somewhere, a deep body, a huge path id.
KEEP, NUMBER, DEEP, PATH_ID = range(4)


def nested(depth: int, leaf=0):
    """A list nested ``depth`` levels deep around ``leaf``."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _numeric_keys(container) -> list:
    if not isinstance(container, dict):
        return []
    numeric = [k for k, v in container.items() if isinstance(v, int | float) or (isinstance(v, str) and v.isdigit())]
    return numeric or list(container)


def mutate(case, how: int, number, depth: int, rng: random.Random):
    """``case`` (a schemathesis Case) with one hostile change; returns it."""
    if how == NUMBER:
        places = [c for c in (case.query, case.body) if isinstance(c, dict) and c]
        if places:
            place = rng.choice(places)
            place[rng.choice(_numeric_keys(place))] = number
    elif how == DEEP and isinstance(case.body, dict | list):
        case.body = nested(depth, case.body)
    elif how == PATH_ID and case.path_parameters:
        key = rng.choice(sorted(case.path_parameters))
        case.path_parameters[key] = rng.choice([*HUGE_IDS, "-1", "0", str(number)[:40] or "x"])
    return case


def hostile_variants(case):
    """A strategy of ``case`` as generated (half the time) or with one hostile change."""
    return st.tuples(
        st.sampled_from([KEEP, KEEP, KEEP, NUMBER, NUMBER, DEEP, PATH_ID]), HOSTILE_NUMBERS, HOSTILE_DEPTHS,
        st.randoms(use_true_random=False),
    ).map(lambda t: mutate(case, *t))  # fmt: skip
