"""The study form's options: each mode says what it can measure, and frame mode says it is the unbiased design."""

from __future__ import annotations

import pytest

from annotator.models import Study
from annotator.selectors.studies import study_form_options


@pytest.mark.django_db
def test_each_mode_says_what_it_can_measure():
    modes = {m["value"]: m for m in study_form_options()["modes"]}
    assert set(modes) == set(Study.Mode.values)
    assert modes[Study.Mode.FRAME]["note"].startswith("unbiased")
    assert "blind to error along that camera's ray" in modes[Study.Mode.IMAGE]["note"]
