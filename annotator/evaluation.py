"""Evaluating 3D predictions in the H3WB submission format exactly as the official ``test_score`` does.

Predictions: ``{"<sample id>": {"keypoints_3d": {"0": {"x", "y", "z"}, ...}}}`` in mm. The reference is
either an official answer file read without importing it (``2Dto3D_test_3d.json``,
``I2Dto3D_test_3d.json``, ``RGBto3D_test_3d.json``, the npz test sets, or a training file for a
cross-validation fold), or a version of an imported dataset (its world skeleton rotated into each
sample's camera, ``R_cam @ X_world``). Any translation is allowed: every metric is root-aligned.

The official rules (wholebody3d ``test_leaderboard.py``) decide what is evaluated:

* the task comes from the predictions' path: ``taskN``, then ``RGB`` -> RGB->3D, else ``I2D`` ->
  I2D->3D, else ``2D`` -> 2D->3D, else 2D->3D; ``cvK`` (K = 1..5) evaluates fold K of the training
  file: ids ``[n//5 * (K-1), n//5 * K)`` of its ``n`` samples;
* the ids read from an answer file of ``n`` samples: 2D->3D ``(i//4)*8 + i%4``, I2D->3D the same + 4,
  RGB->3D ``0..n-1`` (i < n).

Every one of those ids must be predicted and nothing else (a missing or unknown id is an error naming
it), coordinates must be finite and within ``h3wb_format.MAX_ABS_MM`` (1e20 mm would otherwise align
itself away to a perfect 0.0). Inputs are rounded to float32 as the official loader reads them into
float32 tensors, so the numbers equal ``test_score``'s to well under 1e-3 mm. The numbers come from
``annotator.metrics.benchmark_table``, overall and per subject where the reference names subjects.

The submission format is COCO-WholeBody's, so a dataset of another layout is refused before anything is read
(``keypoints.require_layout``); ``evaluate`` itself takes any layout's pairs, and a number the layout cannot
give (the face on its nose tip in COCO-17) is None with its reason under ``not_applicable``.
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
from annotator.importers.h3wb_npz import read_npz_samples
from annotator.importers.kinds import ID_BLOCK, in_block
from annotator.importers.sources import is_npz
from annotator.models import Camera, Dataset, View
from annotator.selectors.datasets import dataset_get

TASKS: tuple[str, ...] = ("2d", "i2d", "rgb")
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


#: The official evaluator's task numbers (``task1`` .. ``task3``) and names.
TASK_NUMBERS: dict[int, str] = {1: "2d", 2: "i2d", 3: "rgb"}
CV_FOLDS = 5


def official_task(path: str) -> tuple[str, int]:
    """(task, cross-validation fold) the official ``test_score`` reads from ``path`` (the whole string, as given)."""
    task = 1
    for number in TASK_NUMBERS:
        if f"task{number}" in path:
            task = number
    if "RGB" in path:
        task = 3
    elif "I2D" in path:
        task = 2
    elif "2D" in path:
        task = 1
    fold = 0
    for k in range(CV_FOLDS + 1):
        if f"cv{k}" in path:
            fold = k
    return TASK_NUMBERS[task], fold


def task_from_filename(name: str) -> str:
    """The task the official evaluator infers from a file name (2D->3D when the name says nothing)."""
    return official_task(str(name))[0]


def official_ids(task: str, n: int, fold: int = 0) -> np.ndarray:
    """(M,) the sample ids the official ``data_loader`` reads from a reference file of ``n`` samples."""
    i = np.arange(n, dtype=np.int64)
    if fold:
        size = n // CV_FOLDS
        return i[size * (fold - 1) : size * fold]
    if task == "rgb":
        return i
    ids = (i // ID_BLOCK) * 2 * ID_BLOCK + i % ID_BLOCK
    return ids + ID_BLOCK if task == "i2d" else ids


def in_task(task: str, sample_id: int) -> bool:
    """Whether ``sample_id`` is one of ``task``'s ids in the 2D/I2D test numbering (blocks of 4)."""
    if task == "rgb":
        return True
    return bool(in_block(task, np.asarray([sample_id]))[0])


@dataclass
class EvaluationPairs:
    """Aligned predictions and references of N samples."""

    sample_ids: np.ndarray  # (N,)
    subjects: list[str]  # (N,), empty strings where the reference does not say
    pred: np.ndarray  # (N, J, 3) mm
    gt: np.ndarray  # (N, J, 3) mm, R_cam @ X_world (any translation)


def _points_3d(path: Path, what: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(ids (N,), keypoints_3d (N, J, 3), subjects (N,)) of a JSON or npz file; PredictionsError names the sample."""
    try:
        if is_npz(path):
            if what == "predictions":
                raise H3WBFormatError("predictions are a JSON file in the H3WB submission format, not an npz")
            npz = read_npz_samples(path)
            ids, points, refs = npz.ids, npz.keypoints_3d, npz.image_refs
        else:
            samples = read_samples(path)
            ids, points, refs = samples.ids, samples.keypoints_3d, samples.image_refs
    except H3WBFormatError as exc:
        raise PredictionsError(f"{what}: {exc}") from None
    if points is None:
        raise PredictionsError(f"{what}: sample {int(ids[0])} has no keypoints_3d", extra={"sample": int(ids[0])})
    bad = ~np.isfinite(points).all(axis=2)
    if bad.any():
        n, joint = (int(v) for v in np.argwhere(bad)[0])
        raise PredictionsError(f"{what}: sample {int(ids[n])}: keypoints_3d['{joint}'] is missing (null or NaN)",
                               extra={"sample": int(ids[n]), "joint": joint})  # fmt: skip
    subjects = [r.subject for r in refs] if refs else [""] * len(ids)
    return ids, points, subjects


def _aligned(pred_ids: np.ndarray, pred: np.ndarray, expected: np.ndarray, where: str) -> np.ndarray:
    """``pred`` reordered to ``expected`` ids; PredictionsError names the first unknown or missing id."""
    position = {int(i): n for n, i in enumerate(pred_ids.tolist())}
    wanted = set(expected.tolist())
    unknown = [int(i) for i in pred_ids.tolist() if int(i) not in wanted]
    if unknown:
        raise PredictionsError(
            f"predictions: sample {unknown[0]} is not one of the {len(wanted)} samples {where}"
            + (f" ({len(unknown)} unknown samples)" if len(unknown) > 1 else ""),
            extra={"sample": unknown[0], "unknown": len(unknown)},
        )
    missing = [int(i) for i in expected.tolist() if int(i) not in position]
    if missing:
        raise PredictionsError(
            f"predictions: sample {missing[0]} {where} is missing ({len(missing)} of {len(expected)} missing)",
            extra={"sample": missing[0], "missing": len(missing)},
        )
    return pred[[position[int(i)] for i in expected.tolist()]]


def _as_read(points: np.ndarray) -> np.ndarray:
    # The official loader reads every coordinate into a float32 tensor.
    return points.astype(np.float32).astype(np.float64)


def answer_pairs(*, predictions: str | Path, ground_truth: str | Path, task: str, fold: int = 0) -> EvaluationPairs:
    """Pair predictions with an official answer file (or a training file for fold ``fold``), as ``test_score``."""
    ids, gt, subjects = _points_3d(Path(ground_truth), "ground truth")
    expected = official_ids(task, len(ids), fold)
    position = {int(i): n for n, i in enumerate(ids.tolist())}
    absent = [int(i) for i in expected.tolist() if int(i) not in position]
    if absent:
        what = f"fold {fold} of the training set" if fold else f"the official {task} test ids"
        raise PredictionsError(
            f"ground truth {Path(ground_truth).name}: sample {absent[0]} of {what} is not in it ({len(absent)} of "
            f"{len(expected)} absent): is it the answer file of this task?",
            extra={"sample": absent[0], "absent": len(absent)},
        )
    rows = [position[int(i)] for i in expected.tolist()]
    pred_ids, pred, _ = _points_3d(Path(predictions), "predictions")
    where = f"of fold {fold} of {Path(ground_truth).name}" if fold else f"of {Path(ground_truth).name} ({task})"
    pred = _aligned(pred_ids, pred, expected, where)
    return EvaluationPairs(expected, [subjects[r] for r in rows], _as_read(pred), _as_read(gt[rows]))


def _dataset_ids(dataset: Dataset, task: str, fold: int) -> tuple[np.ndarray, str]:
    """The sample ids of ``dataset`` that ``task`` / ``fold`` evaluates, and how to say where they come from."""
    space = Dataset.SampleIds(dataset.sample_ids)
    ids = np.asarray(sorted(View.objects.filter(frame__sequence__subject__dataset=dataset, sample_id__isnull=False)
                            .values_list("sample_id", flat=True)), dtype=np.int64)  # fmt: skip
    if fold and space in (Dataset.SampleIds.RGB_TEST, Dataset.SampleIds.LIFTING_TEST):
        raise ApplicationError(f"dataset {dataset.name} holds the {space.label}: cross-validation folds are folds of "
                               "the training set", extra={"field": "cv"})  # fmt: skip
    if (space == Dataset.SampleIds.RGB_TEST) != (task == "rgb") and space in (
        Dataset.SampleIds.RGB_TEST, Dataset.SampleIds.LIFTING_TEST
    ):  # fmt: skip
        answer = "RGBto3D_test_3d.json" if task == "rgb" else f"{'I2D' if task == 'i2d' else '2D'}to3D_test_3d.json"
        raise ApplicationError(
            f"dataset {dataset.name} keeps the sample ids of the {space.label}, which do not line up with the "
            f"{task} test ids: evaluate {task} predictions with --ground-truth {answer} or against a dataset "
            "imported from it",
            extra={"field": "task", "sample_ids": space.value},
        )
    if fold:
        size = (dataset.source_samples or (int(ids.max()) + 1 if len(ids) else 0)) // CV_FOLDS
        ids = ids[(ids >= size * (fold - 1)) & (ids < size * fold)]
    elif task != "rgb" and space in (Dataset.SampleIds.LIFTING_TEST, Dataset.SampleIds.OWN):
        ids = ids[in_block(task, ids)]
    if not len(ids):
        raise ApplicationError(f"dataset {dataset.name} has no samples with imported sample ids for task {task}"
                               + (f", fold {fold}" if fold else ""))  # fmt: skip
    return ids, f"of dataset {dataset.name}" + (f" (fold {fold})" if fold else f" ({task})")


def evaluation_pairs(*, dataset: Dataset, predictions: str | Path, version: str = "dataset",
                     task: str | None = None, fold: int | None = None) -> EvaluationPairs:  # fmt: skip
    """Read ``predictions`` and pair each with its reference in ``dataset``; PredictionsError names the sample.

    The H3WB protocol (its files, tasks and part groups) is COCO-WholeBody's: another layout is refused.
    """
    keypoints.require_layout(dataset.layout, f"H3WB evaluation against dataset {dataset.name}")
    spec = parse_version(version)
    task, fold = _task(predictions, task, fold)
    expected, where = _dataset_ids(dataset, task, fold)
    pred_ids, pred, _ = _points_3d(Path(predictions), "predictions")
    pred = _aligned(pred_ids, pred, expected, where)
    # Every view with an id, filtered here: an ``__in`` of 20,000 ids is more variables than SQLite takes.
    views = View.objects.filter(frame__sequence__subject__dataset=dataset, sample_id__isnull=False)
    wanted = set(expected.tolist())
    reference: dict[int, tuple[int, int, str]] = {}
    for sample_id, frame_id, camera_id, subject in views.values_list(
        "sample_id", "frame_id", "camera_id", "frame__sequence__subject__name"
    ).iterator(chunk_size=RESOLVE_CHUNK):
        if sample_id not in wanted:
            continue
        if sample_id in reference:
            raise ApplicationError(f"dataset {dataset.name} has two views with sample id {sample_id}")
        reference[sample_id] = (frame_id, camera_id, subject)
    rotations = {pk: np.asarray(R, dtype=np.float64) for pk, R in Camera.objects.filter(
        subject__dataset=dataset).values_list("pk", "R")}  # fmt: skip
    frame_ids = sorted({reference[int(i)][0] for i in expected.tolist()})
    world: dict[int, np.ndarray] = {}
    for lo in range(0, len(frame_ids), RESOLVE_CHUNK):
        chunk = frame_ids[lo : lo + RESOLVE_CHUNK]
        world.update({f: s.keypoints for f, s in resolve(spec, chunk, lambda f: f"id {f}").items()})
    gt = np.empty_like(pred)
    for n, sample_id in enumerate(expected.tolist()):
        frame_id, camera_id, _ = reference[sample_id]
        gt[n] = world[frame_id] @ rotations[camera_id].T
    if not np.isfinite(gt).all():
        n = int(np.flatnonzero(~np.isfinite(gt).all(axis=(1, 2)))[0])
        raise ApplicationError(f"dataset {dataset.name}: the {spec.text} skeleton of sample {int(expected[n])} has "
                               "unknown keypoints; the H3WB protocol needs all of them")  # fmt: skip
    subjects = [reference[int(i)][2] for i in expected.tolist()]
    return EvaluationPairs(expected, subjects, _as_read(pred), _as_read(gt))


def _task(predictions: str | Path, task: str | None, fold: int | None) -> tuple[str, int]:
    path_task, path_fold = official_task(str(predictions))
    task = task or path_task
    fold = path_fold if fold is None else fold
    if task not in TASKS:
        raise ApplicationError(f"unknown task {task!r}: use {', '.join(TASKS)}", extra={"field": "task"})
    if not 0 <= fold <= CV_FOLDS:
        raise ApplicationError(f"cross-validation fold {fold} is not 1..{CV_FOLDS} (0: none)", extra={"field": "cv"})
    return task, fold


def evaluate(pairs: EvaluationPairs, layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT) -> dict:
    """``benchmark_table`` of (N, K, 3) pairs in ``layout`` overall and per subject, with sample counts, JSON-ready
    (mm); where the layout lacks what a number needs, ``not_applicable`` maps it to the reason."""
    subjects = np.asarray(pairs.subjects)
    per_subject = {}
    for name in sorted(set(pairs.subjects) - {""}):
        mask = subjects == name
        table = metrics.benchmark_table(pairs.pred[mask], pairs.gt[mask], layout)
        table.pop("not_applicable", None)
        per_subject[name] = {"samples": int(mask.sum()), **table}
    overall = {"samples": len(pairs.sample_ids), **metrics.benchmark_table(pairs.pred, pairs.gt, layout)}
    reasons = overall.pop("not_applicable", {})
    report = {"layout_version": layout.version, "unit": "mm", "overall": overall, "subjects": per_subject}
    if reasons:
        report["not_applicable"] = reasons
    return report


def evaluate_predictions(*, predictions: str | Path, dataset: Dataset | None = None,
                         ground_truth: str | Path | None = None, version: str = "dataset", task: str | None = None,
                         fold: int | None = None) -> dict:  # fmt: skip
    """Evaluate a predictions file against ``dataset``'s ``version`` or an answer file: the report and what it was."""
    task, fold = _task(predictions, task, fold)
    if (dataset is None) == (ground_truth is None):
        raise ApplicationError("evaluate against a dataset or an answer file (--ground-truth), exactly one")
    if ground_truth is not None:
        pairs = answer_pairs(predictions=predictions, ground_truth=ground_truth, task=task, fold=fold)
        what = {"ground_truth": Path(ground_truth).name}
    else:
        pairs = evaluation_pairs(dataset=dataset, predictions=predictions, version=version, task=task, fold=fold)
        what = {"dataset": dataset.name, "version": parse_version(version).text}
    return {**what, "task": task, "cv": fold, **evaluate(pairs)}


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
    source = (f"{report['dataset']} ({report['version']})" if "dataset" in report
              else f"answer file {report['ground_truth']}")  # fmt: skip
    fold = f", fold {report['cv']}" if report.get("cv") else ""
    title = (f"H3WB benchmark, {source}, task {report['task']}{fold}, mm; "
             "all/body/face/hand pelvis-aligned, face/nose on the nose, hand/root on the hand roots, "
             "P = PAFUSE part frames")  # fmt: skip
    notes = [f"- {label}: {report['not_applicable'][key]}" for key, label in COLUMNS
             if key in report.get("not_applicable", {})]  # fmt: skip
    return "\n".join([title, fmt(headers), *(fmt(r) for r in lines), *notes])


def evaluate_upload(*, upload, dataset_name: str, version: str = "dataset", task: str | None = None,
                    fold: int | None = None) -> dict:  # fmt: skip
    """``evaluate_predictions`` of an uploaded file (Django ``UploadedFile``), spooled to disk for the reader."""
    if upload.size > MAX_PREDICTIONS_BYTES:
        raise PredictionsTooLargeError(
            f"the predictions file is {upload.size / 1e6:.0f} MB; the limit is {MAX_PREDICTIONS_BYTES / 1e6:.0f} MB",
            extra={"limit_bytes": MAX_PREDICTIONS_BYTES},
        )
    dataset = dataset_get(name=dataset_name)
    keypoints.require_layout(dataset.layout, f"H3WB evaluation against dataset {dataset.name}")  # before the upload
    # Like the official evaluator, the task and fold default to what the name says: the uploaded name only,
    # never the temporary folder's (whose random letters could spell "cv3").
    name = Path(upload.name or "predictions.json").name
    name_task, name_fold = official_task(name)
    with tempfile.TemporaryDirectory(prefix="predictions-") as tmp:
        path = Path(tmp) / "predictions.json"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        report = evaluate_predictions(dataset=dataset, predictions=path, version=version, task=task or name_task,
                                      fold=name_fold if fold is None else fold)  # fmt: skip
    return {**report, "predictions": name}
