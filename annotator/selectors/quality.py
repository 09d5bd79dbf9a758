"""Reads for the ML worker: trusted 2D for training refiners, skeletons and images to score, and the
quality rankings (best K per subject, review queue) built on stored ``QualityScore`` rows.

Trusted 2D comes from pluggable sources (``TRUSTED_2D_SOURCES``): the ground truth projected into
every view on the synthetic rig; accepted corrections and the pretrained model's confident faces and
hands on real data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db.models import Max, QuerySet

from annotator import geometry, keypoints
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.metrics import best_by_score, spearman
from annotator.models import Dataset, Frame, Job, QualityScore, Skeleton3D, Task, View
from annotator.selectors.tasks import task_state
from ml_services.heldout import KEEP_FRACTION, SCORED_KEYPOINTS, subject_order, true_errors


@dataclass(frozen=True)
class TrustedView:
    """One view with trusted 2D keypoints: (J, 2) ``points`` and an optional (J, 2) ``start`` guess, pixels.

    ``subject`` names the person in it: refiners are evaluated on people they were not trained on, so the
    held-out split goes by subject (the same in every database the dataset is imported into).
    """

    frame_id: int
    subject: str
    view_id: int
    image_path: Path
    points: np.ndarray
    start: np.ndarray | None


@dataclass(frozen=True)
class ScoringItem:
    """A skeleton to score: its (J, 3) world keypoints and its frame's views (cameras and images)."""

    skeleton_id: int
    frame_id: int
    keypoints: np.ndarray
    cameras: tuple[geometry.Camera, ...]
    camera_names: tuple[str, ...]
    image_paths: tuple[Path, ...]


def _image_root(dataset: Dataset) -> Path:
    if not dataset.image_root:
        raise ApplicationError(f"dataset {dataset.name} has no images; refinement and scoring need them")
    return Path(dataset.image_root)


def latest_skeletons(*, dataset: Dataset, source: str) -> QuerySet[Skeleton3D]:
    """The newest skeleton version of ``source`` of every frame of ``dataset``, ordered by frame."""
    if source not in Skeleton3D.Source.values:
        raise ApplicationError(
            f"unknown skeleton source {source!r}; choose one of {', '.join(Skeleton3D.Source.values)}"
        )
    of_source = Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset, source=source)
    newest = set(of_source.values("frame_id").annotate(v=Max("version")).values_list("frame_id", "v"))
    ids = [
        pk
        for pk, frame_id, version in of_source.values_list("pk", "frame_id", "version")
        if (frame_id, version) in newest
    ]
    return Skeleton3D.objects.filter(pk__in=ids).order_by("frame_id")


def _views_by_frame(frame_ids) -> dict[int, list[View]]:
    out: dict[int, list[View]] = defaultdict(list)
    for view in (
        View.objects.filter(frame_id__in=frame_ids).select_related("camera").order_by("frame_id", "camera__name")
    ):
        out[view.frame_id].append(view)
    return out


def trusted_views_ground_truth(dataset: Dataset) -> list[TrustedView]:
    """Ground-truth skeletons projected into every view; the dataset skeleton's projection is the start."""
    root = _image_root(dataset)
    truth = {s.frame_id: s.keypoints for s in latest_skeletons(dataset=dataset, source=Skeleton3D.Source.GROUND_TRUTH)}
    if not truth:
        raise ApplicationError(f"dataset {dataset.name} has no ground-truth skeletons to train on")
    start = {s.frame_id: s.keypoints for s in latest_skeletons(dataset=dataset, source=Skeleton3D.Source.DATASET)}
    subjects = dict(Frame.objects.filter(pk__in=truth).values_list("pk", "sequence__subject__name"))
    out = []
    for frame_id, views in _views_by_frame(truth).items():
        for view in views:
            if not view.image_path:
                continue
            cam = view.camera.as_geometry()
            guess = geometry.project(cam, start[frame_id]) if frame_id in start else None
            out.append(TrustedView(frame_id, subjects[frame_id], view.pk, root / view.image_path,
                                   geometry.project(cam, truth[frame_id]), guess))  # fmt: skip
    return out


def trusted_views_accepted_corrections(dataset: Dataset) -> list[TrustedView]:
    """Views of accepted correction tasks: what a reviewer signed off is the trusted 2D of real data.

    In each view the task covered, a keypoint the annotator placed there counts at the annotator's
    position; every other keypoint at the projection of the accepted, re-triangulated skeleton (the
    annotator saw it and left it). The projection of the skeleton the annotator started from is the
    start guess. The newest accepted task of a frame wins.
    """
    root = _image_root(dataset)
    tasks = (
        Task.objects.filter(
            frame__sequence__subject__dataset=dataset,
            kind=Task.Kind.CORRECTION,
            status=Task.Status.ACCEPTED,
            result_skeleton__isnull=False,
        )
        .select_related("frame__sequence__subject", "base_skeleton", "result_skeleton")
        .prefetch_related("views__camera")
        .order_by("frame_id", "-reviewed_at", "-pk")
    )
    out: list[TrustedView] = []
    seen: set[int] = set()
    for task in tasks:
        if task.frame_id in seen:
            continue
        seen.add(task.frame_id)
        state = task_state(task=task)
        for view in task.views.all():
            if not view.image_path:
                continue
            cam = view.camera.as_geometry()
            points = geometry.project(cam, task.result_skeleton.keypoints)
            for key, (x, y) in state.annotated(view.pk).items():
                points[int(key)] = (x, y)
            out.append(TrustedView(task.frame_id, task.frame.sequence.subject.name, view.pk, root / view.image_path,
                                   points, geometry.project(cam, task.base_skeleton.keypoints)))  # fmt: skip
    if not out:
        raise ApplicationError(f"dataset {dataset.name} has no accepted correction tasks to train on")
    return out


#: A pretrained detection of a face or hand counts as trusted 2D from this presence score on.
PRETRAINED_TRUSTED_SCORE = 0.9
#: ... and when its centre lies within this many part sizes of the dataset skeleton's projection of the part
#: (further off, it is another hand, or a false find).
PRETRAINED_TRUSTED_REACH = 1.0


def trusted_views_pretrained(dataset: Dataset) -> list[TrustedView]:
    """The pretrained model's confident faces and hands (``detect_2d``'s detections), H3WB's recipe with
    OpenPifPaf: a part counts where the model is sure it sees it (presence >= ``PRETRAINED_TRUSTED_SCORE``) and
    where the dataset skeleton puts it too (a confident hand fills whichever of the skeleton's hands it lies on);
    other parts are unknown (NaN) and not trained on. The dataset skeleton's projection is the start."""
    # Imported here: the detections module reads skeletons through this one (latest_skeletons).
    from annotator.selectors.detections import PRETRAINED_DETECTOR, detections_of

    root = _image_root(dataset)
    detections = detections_of(dataset=dataset, detector=PRETRAINED_DETECTOR)
    if not detections:
        raise ApplicationError(f"dataset {dataset.name} has no detections of the pretrained model; run "
                               f"`python manage.py detect_2d --dataset {dataset.name}` first")  # fmt: skip
    start = {s.frame_id: s.keypoints for s in latest_skeletons(dataset=dataset, source=Skeleton3D.Source.DATASET)}
    views = View.objects.filter(pk__in=detections).select_related("camera", "frame__sequence__subject")
    out = []
    for view in views.order_by("frame_id", "camera__name"):
        if not view.image_path:
            continue
        points, scores = detections[view.pk]
        guess = geometry.project(view.camera.as_geometry(), start[view.frame_id]) if view.frame_id in start else None
        trusted = np.full_like(points, np.nan)
        confident = {p: points[keypoints.PARTS[p]] for p in keypoints.VALIDITY_PARTS
                     if (scores[keypoints.PARTS[p]] >= PRETRAINED_TRUSTED_SCORE).all()}  # fmt: skip
        for part in keypoints.VALIDITY_PARTS:
            idx = keypoints.PARTS[part]
            # A hand is matched by where it is: the body model's side of a hand seen from behind can be wrong.
            found = [confident.get(part)] if part == "face" else [confident.get("left_hand"),
                                                                  confident.get("right_hand")]  # fmt: skip
            found = [f for f in found if f is not None]
            if guess is not None:
                lo, hi = guess[idx].min(axis=0), guess[idx].max(axis=0)
                reach = PRETRAINED_TRUSTED_REACH * max(float((hi - lo).max()), 1.0)
                found = [f for f in found if np.hypot(*(f.mean(axis=0) - (lo + hi) / 2)) <= reach]
                found.sort(key=lambda f: float(np.linalg.norm(f - guess[idx], axis=1).mean()))
            elif part != "face":
                found = [confident[part]] if part in confident else []
            if found:
                trusted[idx] = found[0]
        if np.isfinite(trusted).any():
            out.append(TrustedView(view.frame_id, view.frame.sequence.subject.name, view.pk, root / view.image_path,
                                   trusted, guess))  # fmt: skip
    if not out:
        raise ApplicationError(f"the pretrained model is confident of no face or hand in dataset {dataset.name}")
    return out


#: Where trusted 2D comes from: the ground truth (synthetic data), reviewed corrections (real data), or the
#: pretrained model's confident faces and hands (real data, before anyone reviewed it).
TRUSTED_2D_SOURCES: dict[str, Callable[[Dataset], list[TrustedView]]] = {
    "ground_truth": trusted_views_ground_truth,
    "accepted_corrections": trusted_views_accepted_corrections,
    "pretrained": trusted_views_pretrained,
}


#: What the face and hand refiners and the multi-crop scores are called in a refusal for another layout.
REFINER_FEATURE = "training the face and hand refiners"
SCORING_FEATURE = "multi-crop quality scoring (face and hand crops)"


def refiner_training_views(*, dataset: Dataset, source: str = "ground_truth") -> list[TrustedView]:
    """Every view of ``dataset`` with trusted 2D from ``source`` (a key of ``TRUSTED_2D_SOURCES``); a dataset of
    another layout than COCO-WholeBody (whose face and hands the refiners learn) is refused first."""
    keypoints.require_layout(dataset.layout, REFINER_FEATURE)
    if source not in TRUSTED_2D_SOURCES:
        raise ApplicationError(f"unknown trusted-2D source {source!r}; known: {', '.join(TRUSTED_2D_SOURCES)}")
    views = TRUSTED_2D_SOURCES[source](dataset)
    if not views:
        raise ApplicationError(f"dataset {dataset.name} has no views with images and trusted 2D")
    return views


def scoring_skeleton_ids(*, dataset: Dataset, source: str) -> list[int]:
    """Ids of the skeletons a scoring job covers: the newest ``source`` version of every frame with images (the
    scores crop faces and hands: a dataset of another layout than COCO-WholeBody is refused)."""
    keypoints.require_layout(dataset.layout, SCORING_FEATURE)
    _image_root(dataset)
    ids = list(latest_skeletons(dataset=dataset, source=source).values_list("pk", flat=True))
    if not ids:
        raise ApplicationError(f"dataset {dataset.name} has no {source} skeletons to score")
    return ids


def scoring_items(*, skeleton_ids: list[int]) -> list[ScoringItem]:
    """Skeletons with their frames' cameras and image files, in the order of ``skeleton_ids``."""
    skeletons = Skeleton3D.objects.filter(pk__in=skeleton_ids).select_related("frame__sequence__subject__dataset")
    by_id = {s.pk: s for s in skeletons}
    missing = [pk for pk in skeleton_ids if pk not in by_id]
    if missing:
        raise ApplicationError(f"skeletons {missing[:5]} no longer exist")
    views = _views_by_frame({s.frame_id for s in skeletons})
    out = []
    for pk in skeleton_ids:
        s = by_id[pk]
        root = _image_root(s.frame.sequence.subject.dataset)
        vs = [v for v in views[s.frame_id] if v.image_path]
        out.append(ScoringItem(pk, s.frame_id, s.keypoints, tuple(v.camera.as_geometry() for v in vs),
                               tuple(v.camera.name for v in vs), tuple(root / v.image_path for v in vs)))  # fmt: skip
    return out


def ground_truth_errors(*, skeleton_ids: list[int], parts: np.ndarray) -> dict[int, tuple[float, float]]:
    """Per skeleton with a ground truth of its frame: (mean 2D px over views, mean 3D mm) on ``parts``."""
    skeletons = {s.pk: s for s in Skeleton3D.objects.filter(pk__in=skeleton_ids)}
    frame_ids = {s.frame_id for s in skeletons.values()}
    truth = {}
    for s in Skeleton3D.objects.filter(frame_id__in=frame_ids, source=Skeleton3D.Source.GROUND_TRUTH).order_by(
        "version"
    ):
        truth[s.frame_id] = s.keypoints
    views = _views_by_frame(frame_ids)
    out = {}
    for pk, s in skeletons.items():
        if s.frame_id in truth:
            cameras = [v.camera.as_geometry() for v in views[s.frame_id]]
            out[pk] = true_errors(s.keypoints, truth[s.frame_id], cameras, parts)
    return out


def quality_scores(*, dataset: Dataset, checkpoint: str) -> QuerySet[QualityScore]:
    """Scores of ``dataset``'s skeletons by the models with hash ``checkpoint``, best (lowest) first."""
    return (
        QualityScore.objects.filter(skeleton__frame__sequence__subject__dataset=dataset, checkpoint=checkpoint)
        .select_related("skeleton__frame__sequence__subject")
        .order_by("score", "skeleton_id")
    )


def quality_best_per_subject(*, dataset: Dataset, checkpoint: str, k: int) -> dict[str, list[int]]:
    """The ``k`` best-scored skeleton ids of every subject (H3WB kept 5k per subject), best first."""
    if k < 1:
        raise ApplicationError(f"k must be at least 1, got {k}")
    out: dict[str, list[int]] = defaultdict(list)
    rows = quality_scores(dataset=dataset, checkpoint=checkpoint).values_list(
        "skeleton__frame__sequence__subject__name", "skeleton_id"
    )
    for subject, skeleton_id in rows:
        if len(out[subject]) < k:
            out[subject].append(skeleton_id)
    return dict(out)


def quality_review_queue(*, dataset: Dataset, checkpoint: str) -> QuerySet[Frame]:
    """Frames ordered worst score first (each frame by its worst scored skeleton), for the review queue."""
    return (
        Frame.objects.filter(sequence__subject__dataset=dataset, skeletons__quality_scores__checkpoint=checkpoint)
        .annotate(worst_score=Max("skeletons__quality_scores__score"))
        .order_by("-worst_score", "pk")
        .select_related("sequence__subject")
    )


# --- the scoring report: what ``score_quality`` prints and the review dashboard draws -------------------

#: Kind of the chunked scoring jobs (``ml_services.tasks`` creates them).
QUALITY_JOB_KIND = Job.Kind.QUALITY_SCORE
QUANTILES: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
DEFAULT_BINS = 20
#: Orders of the report's frames table: worst (highest score) or best first.
QUALITY_SORTS: tuple[str, ...] = ("worst", "best")


def _num(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def quality_job_latest(*, dataset: Dataset, source: str) -> Job:
    """The newest finished scoring job of ``dataset``'s ``source`` skeletons, else the newest unfinished one."""
    jobs = [j for j in Job.objects.filter(kind=QUALITY_JOB_KIND, dataset=dataset).select_related("dataset")
            .order_by("-pk") if j.params.get("source") == source]  # fmt: skip
    if not jobs:
        raise NotFoundError(f"the {source} skeletons of dataset {dataset.name} have not been scored yet")
    return next((j for j in jobs if j.status == Job.Status.DONE), jobs[0])


def _truth_summary(
    ids: list[int], scores: np.ndarray, truth: dict[int, tuple[float, float]], subjects: list[str]
) -> dict | None:
    """How well ``scores`` (in ``ids`` order) rank the true error, overall and per subject (``subjects``, same
    order): a score trained on some people ranks them better than the next ones, so each is reported alone."""
    if not truth:
        return None
    err2d = np.array([truth.get(pk, (np.nan, np.nan))[0] for pk in ids])
    err3d = np.array([truth.get(pk, (np.nan, np.nan))[1] for pk in ids])
    out: dict = {"n": int(np.isfinite(err2d).sum()), "scored_is_truth": False, "spearman_2d": None,
                 "spearman_3d": None, "keep_fraction": KEEP_FRACTION, "n_kept": 0,
                 "mean_true_2d_px": None, "mean_true_3d_mm": None, "per_subject": {}}  # fmt: skip
    if np.isfinite(err2d).any() and not np.nan_to_num(err2d).any():
        out["scored_is_truth"] = True
        return out
    out["spearman_2d"] = _num(spearman(scores, err2d))
    out["spearman_3d"] = _num(spearman(scores, err3d))
    names = np.array(subjects)
    for name in sorted(set(subjects), key=subject_order):
        mask = names == name
        out["per_subject"][name] = {"n": int((mask & np.isfinite(err2d) & np.isfinite(scores)).sum()),
                                    "spearman_2d": _num(spearman(scores[mask], err2d[mask]))}  # fmt: skip
    keep = np.isfinite(scores) & np.isfinite(err2d)
    if keep.sum() >= 3:
        order = best_by_score(scores[keep], KEEP_FRACTION)
        out["n_kept"] = int(order.size)
        for key, err in (("mean_true_2d_px", err2d[keep]), ("mean_true_3d_mm", err3d[keep])):
            out[key] = {"all": float(err.mean()), "kept": float(err[order].mean())}
    return out


def quality_report(
    *,
    job: Job,
    bins: int = DEFAULT_BINS,
    best: int | None = None,
    sort: str = "worst",
    limit: int = 100,
    offset: int = 0,
) -> dict:
    """The scores of ``job``'s skeletons as plain data: quantiles, a ``bins``-bin histogram, how well they rank
    the true face+hand error where a ground truth exists, the ``best`` best skeletons of every subject (when
    given), and one page of the skeletons' table in ``sort`` order (unscored ones last)."""
    if bins < 1 or (best is not None and best < 1) or sort not in QUALITY_SORTS:
        raise ApplicationError(f"bins and best must be at least 1 and sort one of {', '.join(QUALITY_SORTS)}")
    ids = [pk for chunk in job.chunks.order_by("index") for pk in chunk.payload.get("skeleton_ids", [])]
    rows = {
        q.skeleton_id: q
        for q in QualityScore.objects.filter(skeleton_id__in=ids, checkpoint=job.params.get("checkpoint"))
        .select_related("skeleton__frame__sequence__subject")
    }  # fmt: skip
    scores = np.array([np.nan if pk not in rows or rows[pk].score is None else rows[pk].score for pk in ids])
    finite = scores[np.isfinite(scores)]
    counts, edges = np.histogram(finite, bins=bins) if finite.size else (np.zeros(0, int), np.zeros(0))
    truth_rows = ground_truth_errors(skeleton_ids=ids, parts=SCORED_KEYPOINTS)
    subject_of = dict(Skeleton3D.objects.filter(pk__in=ids).values_list("pk", "frame__sequence__subject__name"))

    def row(q: QualityScore) -> dict:
        frame = q.skeleton.frame
        true = truth_rows.get(q.skeleton_id, (None, None))
        return {"skeleton": q.skeleton_id, "frame": frame.pk, "subject": frame.sequence.subject.name,
                "action": frame.sequence.action, "index": frame.index, "score": _num(q.score),
                "per_part": q.per_part, "true_2d_px": _num(true[0]), "true_3d_mm": _num(true[1])}  # fmt: skip

    scored = sorted((q for q in rows.values() if q.score is not None), key=lambda q: (q.score, q.skeleton_id))
    ordered = (scored[::-1] if sort == "worst" else scored) + [q for q in rows.values() if q.score is None]
    report = {
        "dataset": job.dataset.name,
        "source": job.params.get("source"),
        "checkpoint": job.params.get("checkpoint"),
        "job": {"id": job.pk, "status": job.status, "done": job.progress_done, "total": job.progress_total},
        "n_skeletons": len(ids),
        "n_scored": int(finite.size),
        "quantiles": [{"q": q, "value": float(v)} for q, v in zip(QUANTILES, np.quantile(finite, QUANTILES))]
        if finite.size
        else [],
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
        "truth": _truth_summary(ids, scores, truth_rows, [subject_of.get(pk, "") for pk in ids]),
        "frames": {"count": len(ordered), "sort": sort, "rows": [row(q) for q in ordered[offset : offset + limit]]},
    }
    if best is not None:
        per_subject: dict[str, list[dict]] = defaultdict(list)
        for q in scored:
            subject = q.skeleton.frame.sequence.subject.name
            if len(per_subject[subject]) < best:
                per_subject[subject].append(row(q))
        report["best"] = {"k": best, "subjects": dict(sorted(per_subject.items()))}
    return report


def dataset_quality_report(*, dataset: Dataset, source: str, **options) -> dict:
    """``quality_report`` of the newest scoring job of ``dataset``'s ``source`` skeletons (``quality_job_latest``);
    a dataset of another layout than COCO-WholeBody has none and is told why."""
    keypoints.require_layout(dataset.layout, SCORING_FEATURE)
    return quality_report(job=quality_job_latest(dataset=dataset, source=source), **options)
