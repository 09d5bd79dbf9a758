"""What the instrument section promises in words: the README states the report's limits paragraph verbatim.

(The instrument's figures are tested on real studies in ``tests/annotator/services/test_studies.py``.)
"""

from __future__ import annotations

from pathlib import Path

from annotator import instrument

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_says_what_a_simulated_study_shows_in_the_reports_words():
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert instrument.LIMITS in readme
    assert "**Frame mode is the unbiased design.**" in readme
