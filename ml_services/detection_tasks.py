"""Worker entry points of 2D detection with the pretrained whole-body model (H3WB step 1 on real images).

The ``detect_2d`` job kind's spec (``annotator.services.job_kinds``): ``detection_job_start`` creates (or
finds, to resume) a chunked ``Job`` over a dataset's views and ``detect_chunk_run`` runs one claimed chunk;
the generic job runner claims the chunks (``services.jobs.job_run_local`` here,
``annotator.tasks.job_chunk_task`` in a worker). A chunk reads each view's image and runs
``ml_services.pretrained.detect_wholebody`` on it; a view whose image is missing or unreadable, or
whose person box lies off the image, is skipped with its reason in the chunk's result and the chunk
goes on with the others. The detections are written with the chunk (one transaction) through
``services.detections``, as detector ``ml_services.pretrained.MODEL_NAME``; ``lift_multiview`` lifts them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from annotator import keypoints
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Detection2D, Job, JobChunk
from annotator.selectors.detections import BOX_SOURCES, DETECTION_JOB_KIND, detection_items, detection_view_ids
from annotator.services.detections import detections_write
from annotator.services.jobs import job_create, job_find_same, job_resume
from ml_services.images import load_rgb
from ml_services.pretrained import MODEL_NAME, detect_wholebody
from ml_services.pretrained.assets import MEDIAPIPE, installed

JOB_KIND = DETECTION_JOB_KIND
#: Views per chunk: about a second of work each on a CPU core (a view takes about 0.1-0.3 s).
DEFAULT_CHUNK_SIZE = 8
#: Parts counted as found in a view when every keypoint of theirs has a score.
FOUND_PARTS: tuple[str, ...] = ("body", "face", "left_hand", "right_hand")
#: The detector predicts COCO-WholeBody's keypoints; another layout is refused in these words.
DETECTION_FEATURE = "2D detection with the pretrained whole-body model (it predicts COCO-WholeBody's keypoints)"


def detection_job_start(
    *,
    dataset: Dataset,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    box_from: str | None = None,
    missing_only: bool = False,
    created_by=None,
) -> tuple[Job, bool]:
    """The detection job over ``dataset``'s views (``missing_only``: those without a detection of this model yet,
    e.g. the views a finished job skipped, once their images are fixed): the latest job over the same views with
    the same model and boxes (resumed) or a new one. Returns (job, resumed). A missing model, a dataset without
    images, nothing left to detect or an unknown box source fail before any write."""
    keypoints.require_layout(dataset.layout, DETECTION_FEATURE)
    if chunk_size < 1:
        raise ApplicationError(f"chunk size must be at least 1, got {chunk_size}")
    if box_from is not None and box_from not in BOX_SOURCES:
        raise ApplicationError(f"unknown box source {box_from!r}; choose one of {', '.join(BOX_SOURCES)}")
    if not installed(MEDIAPIPE):
        raise ApplicationError(f"the pretrained model files ({MEDIAPIPE.requirement}) are not installed; run "
                               "`make install` (or `python -m ml_services.pretrained.assets`)")  # fmt: skip
    ids = detection_view_ids(dataset=dataset)
    if missing_only:
        done = set(Detection2D.objects.filter(view_id__in=ids, detector=MODEL_NAME).values_list("view_id", flat=True))
        ids = [pk for pk in ids if pk not in done]
        if not ids:
            raise ApplicationError(f"every view of dataset {dataset.name} has a detection of {MODEL_NAME} already")
    params = {"detector": MODEL_NAME, "chunk_size": chunk_size, "box_from": box_from, "views": len(ids),
              "views_hash": hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]}  # fmt: skip
    job = job_find_same(kind=JOB_KIND, dataset=dataset, params=params)
    if job is not None:
        return job_resume(job=job), True
    payloads = [{"view_ids": ids[i : i + chunk_size]} for i in range(0, len(ids), chunk_size)]
    return job_create(kind=JOB_KIND, dataset=dataset, params=params, payloads=payloads, created_by=created_by), False


def detect_views(view_ids: list[int], box_from: str | None = None) -> tuple[list, dict]:
    """Run the model on each view: (rows to write, chunk result with counts and every skipped view's reason)."""
    rows, skipped = [], []
    found = dict.fromkeys(FOUND_PARTS, 0)
    for item in detection_items(view_ids=view_ids, box_from=box_from):
        try:
            if item.problem or item.image_path is None:
                raise ValueError(item.problem)
            out = detect_wholebody(load_rgb(item.image_path), item.box)
        except ValueError as exc:
            skipped.append({"view": item.view_id, "label": item.label, "reason": str(exc)})
            continue
        rows.append((item.view_id, out[:, :2], out[:, 2]))
        for part in FOUND_PARTS:
            found[part] += int((out[keypoints.PARTS[part], 2] > 0).any())
    result = {"views": len(view_ids), "detected": len(rows), "skipped": len(skipped), "found": found,
              "skipped_views": skipped}  # fmt: skip
    return rows, result


def detect_chunk_run(*, job: Job, chunk: JobChunk) -> tuple[dict, Callable[[], None]]:
    """Detect in one claimed chunk's views: (its result, the write of its detections). A bad image is skipped
    and reported in the result; any other failure fails the chunk."""
    keypoints.require_layout(job.dataset.layout, DETECTION_FEATURE)  # a job queued before the check existed
    rows, result = detect_views(chunk.payload["view_ids"], job.params.get("box_from"))
    return result, lambda: detections_write(detector=job.params["detector"], rows=rows)
