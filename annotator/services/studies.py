"""Studies: sample a dataset reproducibly and hand the items to annotators as correction tasks.

``study_create`` validates everything first (dataset, subjects, sizes, annotators) and then writes
the study, its items and their tasks in one transaction, so bad input leaves nothing behind.
Sampling: the candidates (frames with a dataset skeleton, or their views in image mode) are ordered
by id and drawn without replacement by ``numpy.random.default_rng(seed)``; honeypots are drawn
afterwards from the remaining candidates with a known answer: a ground-truth skeleton, or on real data a
gold one (a correction a reviewer accepted in an earlier study, ``selectors.studies.gold_skeletons``). Each item goes to
``per_item`` different annotators, rotating through the list so that the load is even, skipping
anyone who already has an open task on the item's frame (a frame has at most one open task per
annotator, so image-mode items of one frame need different annotators).
"""

from __future__ import annotations

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from annotator import names
from annotator.exceptions import ApplicationError
from annotator.models import Dataset, Frame, Skeleton3D, Study, StudyItem, Task, View
from annotator.selectors.studies import gold_skeletons
from annotator.services.tasks import task_create

#: The most items one study may hold (its report is built in memory).
MAX_STUDY_ITEMS = 20_000
#: The most annotators per item (each item becomes that many tasks).
MAX_PER_ITEM = 100
#: The largest seed (the column is a 32-bit unsigned integer).
MAX_SEED = 2**31 - 1
STUDY_NAME_TAKEN = "a study named {name!r} exists already"
NO_ANNOTATORS = "a study needs at least one annotator"


def _fail(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, extra={"field": field})


def _resolve_annotators(usernames: list[str]) -> list:
    if not usernames:
        raise _fail(NO_ANNOTATORS, "annotators")
    if len(set(usernames)) != len(usernames):
        raise _fail(f"annotators are listed twice: {', '.join(usernames)}", "annotators")
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames, is_active=True)}
    unknown = [name for name in usernames if name not in users]
    if unknown:
        raise _fail(f"unknown annotator(s): {', '.join(unknown)}", "annotators")
    return [users[name] for name in usernames]


def _candidates(dataset: Dataset, subjects: list[str], mode: str) -> tuple[list[tuple[int, int | None]], set[int]]:
    """Sampleable (frame id, view id or None) pairs in id order, and the frame ids with a known answer: ground
    truth, or gold (a reviewer accepted a correction of it, ``selectors.studies.gold_skeletons``)."""
    frames = Frame.objects.filter(
        sequence__subject__dataset=dataset,
        sequence__subject__name__in=subjects,
        skeletons__source=Skeleton3D.Source.DATASET,
    ).distinct()
    frame_ids = sorted(frames.values_list("id", flat=True))
    with_truth = set(
        Skeleton3D.objects.filter(frame__in=frames, source=Skeleton3D.Source.GROUND_TRUTH).values_list(
            "frame_id", flat=True
        )
    )
    with_truth |= set(gold_skeletons(frame_ids=frames.values("id")))
    if mode == Study.Mode.FRAME:
        return [(f, None) for f in frame_ids], with_truth
    views = View.objects.filter(frame__in=frames).order_by("frame_id", "id").values_list("frame_id", "id")
    return list(views), with_truth


def _assign(items: list[StudyItem], annotators: list, per_item: int) -> list[list]:
    """``per_item`` distinct annotators per item, rotating, skipping those with an open task on the frame."""
    busy = set(
        Task.objects.filter(
            assignee__in=annotators,
            status__in=Task.OPEN_STATUSES,
            frame_id__in={i.frame_id for i in items},
            kind=Task.Kind.CORRECTION,
        ).values_list("frame_id", "assignee_id")
    )
    n = len(annotators)
    out = []
    for i, item in enumerate(items):
        chosen = []
        for j in range(n):
            user = annotators[(i * per_item + j) % n]
            if (item.frame_id, user.pk) in busy:
                continue
            chosen.append(user)
            busy.add((item.frame_id, user.pk))
            if len(chosen) == per_item:
                break
        if len(chosen) < per_item:
            raise _fail(
                f"frame {item.frame_id} cannot get {per_item} annotator(s): the others already have an open task "
                f"on it (in image mode every view of a frame needs a different annotator); add annotators",
                "annotators",
            )
        out.append(chosen)
    return out


@transaction.atomic
def study_create(
    *,
    name: str,
    dataset: str,
    subjects: list[str] | None,
    n_items: int,
    mode: str,
    seed: int,
    annotators: list[str],
    per_item: int = 1,
    n_honeypots: int = 0,
    created_by=None,
) -> Study:
    """Sample ``n_items`` (+ ``n_honeypots``) items of ``dataset`` and create a task per item and annotator.

    ``subjects`` None or empty means all of the dataset's subjects; ``annotators`` are usernames.
    """
    names.name_check(name, what="study")
    for field, value, low, high in (
        ("n_items", n_items, 1, MAX_STUDY_ITEMS),
        ("n_honeypots", n_honeypots, 0, MAX_STUDY_ITEMS),
        ("seed", seed, 0, MAX_SEED),
        ("per_item", per_item, 1, MAX_PER_ITEM),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(f"{field.replace('_', ' ')} must be an integer from {low} to {high}, got {value!r}", field)
    if Study.objects.filter(name=name).exists():
        raise _fail(STUDY_NAME_TAKEN.format(name=name), "name")
    ds = Dataset.objects.filter(name=dataset).first()
    if ds is None:
        raise _fail(f"no dataset named {dataset!r}", "dataset")
    known = list(ds.subjects.order_by("name").values_list("name", flat=True))
    subjects = list(subjects or known)
    unknown = [s for s in subjects if s not in known]
    if unknown:
        raise _fail(f"unknown subject(s) {', '.join(unknown)} in {ds.name}; it has {', '.join(known)}", "subjects")
    if mode not in Study.Mode.values:
        raise _fail(f"mode must be one of {', '.join(Study.Mode.values)}, got {mode!r}", "mode")
    users = _resolve_annotators(list(annotators))
    if per_item < 1 or per_item > len(users):
        raise _fail(f"per-item must be from 1 to the number of annotators ({len(users)}), got {per_item}", "per_item")

    candidates, with_truth = _candidates(ds, subjects, mode)
    unit = "frames" if mode == Study.Mode.FRAME else "images"
    if n_items > len(candidates):
        raise _fail(
            f"the study asks for {n_items} {unit} but {ds.name} ({', '.join(subjects)}) has only {len(candidates)}",
            "n_items",
        )
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(candidates), n_items, replace=False).tolist())
    chosen = set(picked)
    honeypot_pool = [i for i, (f, _) in enumerate(candidates) if i not in chosen and f in with_truth]
    if n_honeypots > len(honeypot_pool):
        raise _fail(
            f"{n_honeypots} honeypots need {unit} with a known answer (ground truth, or gold: a correction a "
            f"reviewer accepted) beside the sample; "
            f"only {len(honeypot_pool)} are left",
            "n_honeypots",
        )
    honeypots = sorted(rng.choice(honeypot_pool, n_honeypots, replace=False).tolist()) if n_honeypots else []

    study = Study.objects.create(
        name=name, dataset=ds, subjects=subjects, mode=mode, n_items=n_items, n_honeypots=n_honeypots,
        seed=seed, per_item=per_item, created_by=created_by,
    )  # fmt: skip
    study.annotators.set(users)
    items = StudyItem.objects.bulk_create(
        [StudyItem(study=study, frame_id=candidates[i][0], view_id=candidates[i][1]) for i in picked]
        + [StudyItem(study=study, frame_id=candidates[i][0], view_id=candidates[i][1], is_honeypot=True)
           for i in honeypots]
    )  # fmt: skip
    frames = Frame.objects.in_bulk({item.frame_id for item in items})
    views = View.objects.in_bulk({item.view_id for item in items if item.view_id})
    task_ids = []
    for item, assignees in zip(items, _assign(items, users, per_item)):
        item_views = [views[item.view_id]] if item.view_id else None
        for user in assignees:
            task = task_create(frame=frames[item.frame_id], assignee=user, views=item_views, created_by=created_by)
            task_ids.append(task.pk)
    Task.objects.filter(pk__in=task_ids).update(study=study)
    return study
