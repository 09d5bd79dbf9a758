"""Worker entry points of multi-crop quality scoring; the only module of ``ml_services`` that touches the ORM.

The ``quality_score`` job kind's spec (``annotator.services.job_kinds``): ``scoring_job_start`` creates (or
finds, to resume) a chunked ``Job`` over a dataset's skeletons, and ``score_chunk_run`` scores one claimed
chunk; the generic job runner (``services.jobs.job_run_local`` here, ``annotator.tasks.job_chunk_task`` in a
worker) claims the chunks and stores each chunk's rows with its completion. Each path goes selectors ->
``ml_services.scoring`` (or ``ml_services.pretrained.scoring`` for a job with ``scorer="pretrained"``) ->
services, so the same code runs under any queue backend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch

from annotator import geometry, keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Job, JobChunk
from annotator.selectors.quality import QUALITY_JOB_KIND, SCORING_FEATURE, scoring_items, scoring_skeleton_ids
from annotator.services.jobs import job_create, job_find_same, job_resume
from annotator.services.quality import ScoreRow, quality_scores_write
from annotator.tasks import job_submit
from ml_services.checkpoints import checkpoint_hash, default_checkpoint, load_checkpoint
from ml_services.device import select_device
from ml_services.images import load_rgb
from ml_services.models import Refiner
from ml_services.pretrained.assets import MEDIAPIPE, installed
from ml_services.pretrained.scoring import score_views_pretrained
from ml_services.scoring import PART_NAMES, ScoringConfig, score_views
from ml_services.suggestions import checkpoint_path

JOB_KIND = QUALITY_JOB_KIND
MODEL_NAME = "multicrop-face-hand"
#: The scorers a job can use: the trained face/hand refiners, or the pretrained whole-body model's part networks.
SCORERS: tuple[str, ...] = ("refiner", "pretrained")
PRETRAINED_MODEL_NAME = "multicrop-pretrained"
#: What pretrained scores are stored under (``QualityScore.checkpoint``): the pinned release of the model.
PRETRAINED_CHECKPOINT = f"pretrained:{MEDIAPIPE.requirement}"
DEFAULT_CHUNK_SIZE = 32
#: Skeletons scored per network call inside a chunk (their 4 views' images are held in memory).
SKELETONS_PER_BATCH = 16


@cache
def _refiners(face: str, hand: str, device: str) -> dict[str, Refiner]:
    """The two networks, loaded once per worker process (``score_chunk_run`` checks the files' hash first)."""
    dev = torch.device(device)
    return {"face": load_checkpoint(face, "face", dev), "hand": load_checkpoint(hand, "hand", dev)}


def scoring_job_start(
    *,
    dataset: Dataset,
    source: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    face_checkpoint: str | Path | None = None,
    hand_checkpoint: str | Path | None = None,
    created_by=None,
    scorer: str = "refiner",
) -> tuple[Job, bool]:
    """The scoring job for ``dataset``'s ``source`` skeletons: the latest job over the same skeletons with the
    same scorer and checkpoints (resumed; a finished one has nothing left to do) or a new one. Returns (job,
    resumed). ``scorer`` is ``refiner`` (the trained face/hand refiners) or ``pretrained`` (the pretrained model).
    Bad checkpoints, a missing model, a dataset without images or without skeletons fail before any write."""
    keypoints.require_layout(dataset.layout, SCORING_FEATURE)
    if chunk_size < 1:
        raise ApplicationError(f"chunk size must be at least 1, got {chunk_size}")
    if scorer not in SCORERS:
        raise ApplicationError(f"unknown scorer {scorer!r}; choose one of {', '.join(SCORERS)}")
    if scorer == "pretrained":
        return _pretrained_job_start(dataset=dataset, source=source, chunk_size=chunk_size, created_by=created_by)
    face = str(Path(face_checkpoint or default_checkpoint("face")).resolve())
    hand = str(Path(hand_checkpoint or default_checkpoint("hand")).resolve())
    try:
        _refiners(face, hand, "cpu")  # fail now, not in every chunk
    except (FileNotFoundError, ValueError) as exc:
        raise ApplicationError(str(exc)) from None
    ids = scoring_skeleton_ids(dataset=dataset, source=source)
    # The score's definition is part of the job: a job of the old definition ("parts", no key) is not resumed
    # as if it were this one, and a resumed job keeps the definition it started with.
    params = {"source": source, "chunk_size": chunk_size, "face": face, "hand": hand,
              "checkpoint": checkpoint_hash(face, hand), "part_weighting": ScoringConfig().part_weighting,
              "skeletons": len(ids),
              "skeletons_hash": hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]}  # fmt: skip
    job = job_find_same(kind=JOB_KIND, dataset=dataset, params=params)
    if job is not None:
        return job_resume(job=job), True
    payloads = [{"skeleton_ids": ids[i : i + chunk_size]} for i in range(0, len(ids), chunk_size)]
    return job_create(kind=JOB_KIND, dataset=dataset, params=params, payloads=payloads, created_by=created_by), False


def _pretrained_job_start(*, dataset: Dataset, source: str, chunk_size: int, created_by) -> tuple[Job, bool]:
    if not installed(MEDIAPIPE):
        raise ApplicationError(f"the pretrained model files ({MEDIAPIPE.requirement}) are not installed; run "
                               "`make install` (or `python -m ml_services.pretrained.assets`)")  # fmt: skip
    ids = scoring_skeleton_ids(dataset=dataset, source=source)
    digest = hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]
    params = {"source": source, "chunk_size": chunk_size, "scorer": "pretrained", "checkpoint": PRETRAINED_CHECKPOINT,
              "part_weighting": ScoringConfig().part_weighting, "skeletons": len(ids),
              "skeletons_hash": digest}  # fmt: skip
    job = job_find_same(kind=JOB_KIND, dataset=dataset, params=params)
    if job is not None:
        return job_resume(job=job), True
    payloads = [{"skeleton_ids": ids[i : i + chunk_size]} for i in range(0, len(ids), chunk_size)]
    return job_create(kind=JOB_KIND, dataset=dataset, params=params, payloads=payloads, created_by=created_by), False


def score_skeleton_ids(
    skeleton_ids: list[int], refiners: dict[str, Refiner] | None, config: ScoringConfig | None = None
) -> list[ScoreRow]:
    """Score skeletons (ids) from their projections into their frames' views, with the trained ``refiners`` or,
    when None, the pretrained model; ``config`` (default ``ScoringConfig()``) says how parts are combined."""
    config = config or ScoringConfig()
    items = scoring_items(skeleton_ids=skeleton_ids)
    rows: list[ScoreRow] = []
    for lo in range(0, len(items), SKELETONS_PER_BATCH):
        batch = items[lo : lo + SKELETONS_PER_BATCH]
        # Skeletons with the same number of views share one call (a frame missing an image has fewer).
        for n_views in sorted({len(it.cameras) for it in batch}):
            group = [it for it in batch if len(it.cameras) == n_views]
            if n_views == 0:
                rows += [ScoreRow(it.skeleton_id, float("nan"), {}, {}) for it in group]
                continue
            points = np.stack([np.stack([geometry.project(cam, it.keypoints) for cam in it.cameras]) for it in group])
            images = [load_rgb(path) for it in group for path in it.image_paths]
            if refiners is None:
                result = score_views_pretrained(points, images, config.part_weighting)
            else:
                result = score_views(refiners, points, images, config)
            for s, it in enumerate(group):
                rows.append(ScoreRow(
                    skeleton_id=it.skeleton_id,
                    score=float(result.score[s]),
                    per_view=dict(zip(it.camera_names, result.per_view[s].tolist(), strict=True)),
                    per_part=dict(zip(PART_NAMES, result.per_part[s].tolist(), strict=True)),
                ))  # fmt: skip
    return rows


def score_chunk_run(*, job: Job, chunk: JobChunk, device: str = "auto") -> tuple[dict, Callable[[], None]]:
    """Score one claimed chunk: (its result, the write of its quality scores)."""
    keypoints.require_layout(job.dataset.layout, SCORING_FEATURE)  # a job queued before the check existed
    pretrained = job.params.get("scorer") == "pretrained"
    if pretrained:
        refiners = None
    else:
        if checkpoint_hash(job.params["face"], job.params["hand"]) != job.params["checkpoint"]:
            raise ApplicationError(f"the refiner checkpoints changed since job {job.pk} was created; start a "
                                   "new job")  # fmt: skip
        refiners = _refiners(job.params["face"], job.params["hand"], str(select_device(device)))
    # A job started before the score weighed parts by their keypoints has no key: it finishes as it began.
    config = ScoringConfig(part_weighting=job.params.get("part_weighting", "parts"))
    rows = score_skeleton_ids(chunk.payload["skeleton_ids"], refiners, config)
    scores = [r.score for r in rows if np.isfinite(r.score)]
    result = {"scored": len(scores), "unscorable": len(rows) - len(scores),
              "mean": float(np.mean(scores)) if scores else None}  # fmt: skip

    def write() -> None:
        quality_scores_write(rows=rows, model_name=PRETRAINED_MODEL_NAME if pretrained else MODEL_NAME,
                             checkpoint=job.params["checkpoint"])  # fmt: skip

    return result, write


def scoring_job_submit(*, dataset: Dataset, source: str, created_by=None) -> tuple[Job, bool, int]:
    """The dashboard's "Score quality": start (or resume) the scoring job with the configured checkpoints and hand
    its unfinished chunks to the workers, as ``score_quality --enqueue`` does. Returns (job, resumed, enqueued)."""
    return job_submit(kind=JOB_KIND, dataset=dataset, source=source, face_checkpoint=checkpoint_path("face"),
                      hand_checkpoint=checkpoint_path("hand"), created_by=created_by)  # fmt: skip
