"""Evaluating 3D predictions in the H3WB submission format against a version of a dataset (H3WB protocol).

Predictions: ``{"<sample id>": {"keypoints_3d": {"0": {"x", "y", "z"}, ...}}}`` in mm, sample ids the
dataset's ``View.sample_id`` (the ids of the imported release file), read with the release reader.
The reference of a sample is the chosen version's world skeleton of its frame rotated into that
sample's camera, ``R_cam @ X_world``: the frame the prediction is in. Any translation is allowed,
since every metric is root-aligned (docs/reference/h3wb_format.md sections 5-6).

``--task`` picks the samples that must be predicted: ``2d`` the 2D->3D test ids ``(i//4)*8 + i%4``,
``i2d`` the I2D->3D ids (the other blocks of 4), ``rgb`` every sample. Every chosen sample must be
predicted, and nothing else: a missing or unknown id is an error naming it. The numbers come from
``annotator.metrics.benchmark_table``, overall and per subject.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator import keypoints, metrics
from annotator.exceptions import ApplicationError
from annotator.exporters.versions import parse_version, resolve
from annotator.h3wb_format import H3WBFormatError
from annotator.importers.h3wb import read_samples
from annotator.models import Camera, Dataset, View
from annotator.selectors.datasets import dataset_get

TASKS: tuple[str, ...] = ("2d", "i2d", "rgb")
#: H3WB's test ids come in alternating blocks of 4: 2D->3D, then I2D->3D.
ID_BLOCK = 4
RESOLVE_CHUNK = 2000
#: Columns of the text table: (key of benchmark_table, header).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("all", "all"),
    ("body", "body"),
    ("face", "face"),
    ("hand", "hand"),
    ("face_nose_aligned", "face/nose"),
    ("hand_root_aligned", "hand/root"),
    ("pafuse_body", "P body"),
    ("pafuse_face", "P face"),
    ("pafuse_hand", "P hand"),
    ("pa_mpjpe", "PA-MPJPE"),
)
#: Largest predictions file accepted by an upload (the full H3WB test set is about 150 MB).
MAX_PREDICTIONS_BYTES = 256 * 1024 * 1024


class PredictionsError(ApplicationError):
    """The predictions file is malformed or does not match the dataset; the message names the sample."""


class PredictionsTooLargeError(ApplicationError):
    """An uploaded predictions file is over ``MAX_PREDICTIONS_BYTES``."""

    status_code = 413


def task_from_filename(name: str) -> str:
    """The task the official evaluator infers from a file name: RGB, else I2D, else 2D; ``rgb`` when none."""
    upper = Path(name).name.upper()
    if "RGB" in upper:
        return "rgb"
    if "I2D" in upper:
        return "i2d"
    if "2D" in upper:
        return "2d"
    return "rgb"


def in_task(task: str, sample_id: int) -> bool:
    """Whether ``sample_id`` is one of ``task``'s samples."""
    if task == "rgb":
        return True
    block = (sample_id // ID_BLOCK) % 2
    return block == (0 if task == "2d" else 1)


@dataclass
class EvaluationPairs:
    """Aligned predictions and references of N samples."""

    sample_ids: np.ndarray  # (N,)
    subjects: list[str]  # (N,)
    pred: np.ndarray  # (N, J, 3) mm
    gt: np.ndarray  # (N, J, 3) mm, R_cam @ X_world of the chosen version


def evaluation_pairs(*, dataset: Dataset, predictions: str | Path, version: str = "dataset",
                     task: str | None = None) -> EvaluationPairs:  # fmt: skip
    """Read ``predictions`` and pair each with its reference; PredictionsError names the first bad sample."""
    spec = parse_version(version)
    task = task or task_from_filename(str(predictions))
    if task not in TASKS:
        raise ApplicationError(f"unknown task {task!r}: use {', '.join(TASKS)}", extra={"field": "task"})
    try:
        samples = read_samples(predictions)
    except H3WBFormatError as exc:
        raise PredictionsError(f"predictions: {exc}") from None
    if samples.keypoints_3d is None:
        raise PredictionsError(f"predictions: sample {samples.ids[0]} has no keypoints_3d",
                               extra={"sample": int(samples.ids[0])})  # fmt: skip
    views = View.objects.filter(frame__sequence__subject__dataset=dataset, sample_id__isnull=False)
    reference: dict[int, tuple[int, int, str]] = {}
    for sample_id, frame_id, camera_id, subject in views.values_list(
        "sample_id", "frame_id", "camera_id", "frame__sequence__subject__name"
    ).order_by("sample_id"):
        if not in_task(task, sample_id):
            continue
        if sample_id in reference:
            raise ApplicationError(f"dataset {dataset.name} has two views with sample id {sample_id}")
        reference[sample_id] = (frame_id, camera_id, subject)
    if not reference:
        raise ApplicationError(f"dataset {dataset.name} has no samples with imported sample ids for task {task}")
    ids = [int(i) for i in samples.ids]
    unknown = [i for i in ids if i not in reference]
    if unknown:
        raise PredictionsError(
            f"predictions: sample {unknown[0]} is not a {task} sample of dataset {dataset.name}"
            + (f" ({len(unknown)} unknown samples)" if len(unknown) > 1 else ""),
            extra={"sample": unknown[0], "unknown": len(unknown)},
        )
    if len(ids) < len(reference):
        given = set(ids)
        missing = [i for i in reference if i not in given]
        raise PredictionsError(
            f"predictions: sample {missing[0]} of dataset {dataset.name} is missing ({len(missing)} of "
            f"{len(reference)} {task} samples missing)",
            extra={"sample": missing[0], "missing": len(missing)},
        )
    rotations = {pk: np.asarray(R, dtype=np.float64) for pk, R in Camera.objects.filter(
        subject__dataset=dataset).values_list("pk", "R")}  # fmt: skip
    frame_ids = sorted({reference[i][0] for i in ids})
    world: dict[int, np.ndarray] = {}
    for lo in range(0, len(frame_ids), RESOLVE_CHUNK):
        chunk = frame_ids[lo : lo + RESOLVE_CHUNK]
        world.update({f: s.keypoints for f, s in resolve(spec, chunk, lambda f: f"id {f}").items()})
    gt = np.empty_like(samples.keypoints_3d)
    for n, sample_id in enumerate(ids):
        frame_id, camera_id, _ = reference[sample_id]
        gt[n] = world[frame_id] @ rotations[camera_id].T
    return EvaluationPairs(np.asarray(ids), [reference[i][2] for i in ids], samples.keypoints_3d, gt)


def evaluate(pairs: EvaluationPairs) -> dict:
    """``benchmark_table`` overall and per subject, with sample counts, JSON-ready (mm)."""
    subjects = np.asarray(pairs.subjects)
    per_subject = {}
    for name in sorted(set(pairs.subjects)):
        mask = subjects == name
        per_subject[name] = {"samples": int(mask.sum()), **metrics.benchmark_table(pairs.pred[mask], pairs.gt[mask])}
    overall = {"samples": len(pairs.sample_ids), **metrics.benchmark_table(pairs.pred, pairs.gt)}
    return {"layout_version": keypoints.LAYOUT_VERSION, "unit": "mm", "overall": overall, "subjects": per_subject}


def evaluate_predictions(*, dataset: Dataset, predictions: str | Path, version: str = "dataset",
                         task: str | None = None) -> dict:  # fmt: skip
    """Evaluate a predictions file: the report of ``evaluate`` plus what was evaluated."""
    task = task or task_from_filename(str(predictions))
    report = evaluate(evaluation_pairs(dataset=dataset, predictions=predictions, version=version, task=task))
    return {"dataset": dataset.name, "version": parse_version(version).text, "task": task, **report}


def report_rows(report: dict) -> list[dict]:
    """The report as table rows (one per subject, then ``all``), each ``{"name", "samples", "values"}``."""
    rows = [{"name": name, **row} for name, row in report["subjects"].items()]
    rows.append({"name": "all", **report["overall"]})
    return [{"name": r["name"], "samples": r["samples"], "values": [r[key] for key, _ in COLUMNS]} for r in rows]


def format_text(report: dict) -> str:
    """An aligned text table of the report, mm with one decimal."""
    headers = ["subject", "samples", *(label for _, label in COLUMNS)]
    lines = [[r["name"], str(r["samples"]), *("-" if v is None else f"{v:.1f}" for v in r["values"])]
             for r in report_rows(report)]  # fmt: skip
    widths = [max(len(row[i]) for row in [headers, *lines]) for i in range(len(headers))]
    fmt = lambda row: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))  # noqa: E731
    title = (f"H3WB benchmark, {report['dataset']} ({report['version']}), task {report['task']}, mm; "
             "all/body/face/hand pelvis-aligned, face/nose on the nose, hand/root on the hand roots, "
             "P = PAFUSE part frames")  # fmt: skip
    return "\n".join([title, fmt(headers), *(fmt(r) for r in lines)])


def evaluate_upload(*, upload, dataset_name: str, version: str = "dataset", task: str | None = None) -> dict:
    """``evaluate_predictions`` of an uploaded file (Django ``UploadedFile``), spooled to disk for the reader."""
    if upload.size > MAX_PREDICTIONS_BYTES:
        raise PredictionsTooLargeError(
            f"the predictions file is {upload.size / 1e6:.0f} MB; the limit is {MAX_PREDICTIONS_BYTES / 1e6:.0f} MB",
            extra={"limit_bytes": MAX_PREDICTIONS_BYTES},
        )
    dataset = dataset_get(name=dataset_name)
    with tempfile.TemporaryDirectory(prefix="predictions-") as tmp:
        # Keep the uploaded name: like the official evaluator, the task defaults to what the name says.
        path = Path(tmp) / Path(upload.name or "predictions.json").name
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        return evaluate_predictions(dataset=dataset, predictions=path, version=version, task=task)
