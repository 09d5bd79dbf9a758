"""Exports stream: their peak memory does not grow with the dataset. Imports hold only the parsed arrays.

Each measurement runs in a fresh process (``python -m tests.test_memory``) over its own SQLite file and
reports how far its resident memory peak (``VmHWM``) rose above where it stood before the work began.

- Export: a dataset eight times larger (15 MB against 120 MB of JSON written) must raise that peak by no
  more than a few megabytes more: keeping every sample would cost hundreds.
- Import: the samples of a release are grouped into frames and checked as a whole before anything is
  written (an import is atomic), so their arrays are held: 133 keypoints x (2 + 3) float64 = 5.3 kB a
  sample. Each sample more may cost at most ``MAX_IMPORT_KB_PER_SAMPLE``: holding the JSON text (about
  19 kB a sample), its Python objects, or the arrays twice would cost far more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.frontend.live import ROOT

#: Samples of the small and the large release (4 views per instant, 5 subjects).
SMALL, LARGE = 800, 6400
SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
#: How much more (MB) the large file may raise the peak than the small one. Python's allocator and
#: SQLite's page cache drift by a few MB; holding the large file in memory would add about 700 MB.
MAX_GROWTH_MB = 40.0
#: What one more sample may add to an import's peak, kB (its arrays are 5.3 kB; 14 kB before the reader
#: stopped holding them twice).
MAX_IMPORT_KB_PER_SAMPLE = 8.0
TIMEOUT_S = 300


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _write_release(path: Path, samples: int) -> None:
    from tests.h3wb_files import release_json

    frames = [(SUBJECTS[i % len(SUBJECTS)], f"Action {i % 16}", i) for i in range(samples // 4)]
    data, _ = release_json(frames, np.random.default_rng(0))
    path.write_text(json.dumps(data))


def _child(step: str, database: Path, path: Path) -> dict:
    """In the child process: set up Django on ``database``, then import ``path`` or export to ``path``."""
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "annotator.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    from annotator.exporters import write_export
    from annotator.models import Dataset
    from annotator.services.imports import dataset_import_h3wb

    if step == "import":
        call_command("migrate", verbosity=0)
        before = _status_mb("VmRSS")
        dataset_import_h3wb(dataset_name="memory", annotations=path)
    else:
        dataset = Dataset.objects.get(name="memory")
        before = _status_mb("VmRSS")
        write_export(dataset=dataset, fmt=step, version="dataset", out=path)
    return {"rise_mb": _status_mb("VmHWM") - before, "file_mb": path.stat().st_size / 1e6}


def _measure(step: str, database: Path, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_memory", step, str(database), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """{size: (database, import measurement)} for the small and the large release."""
    out = {}
    for samples in (SMALL, LARGE):
        folder = tmp_path_factory.mktemp(f"memory-{samples}")
        release = folder / "release.json"
        _write_release(release, samples)
        out[samples] = (folder / "db.sqlite3", _measure("import", folder / "db.sqlite3", release))
    return out


def test_import_memory_grows_only_by_the_samples_arrays(imported):
    small, large = imported[SMALL][1], imported[LARGE][1]
    per_sample_kb = (large["rise_mb"] - small["rise_mb"]) * 1024 / (LARGE - SMALL)
    assert per_sample_kb < MAX_IMPORT_KB_PER_SAMPLE, (small, large, per_sample_kb)


@pytest.mark.parametrize("fmt", ["h3wb", "coco-wholebody"])
def test_export_memory_does_not_grow_with_the_dataset(imported, fmt, tmp_path):
    small = _measure(fmt, imported[SMALL][0], tmp_path / "small.json")
    large = _measure(fmt, imported[LARGE][0], tmp_path / "large.json")
    assert large["file_mb"] > 7 * small["file_mb"]
    assert large["rise_mb"] - small["rise_mb"] < MAX_GROWTH_MB, (small, large)


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
