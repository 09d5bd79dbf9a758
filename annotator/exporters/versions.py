"""Which skeleton of each frame an export or an evaluation uses: parsing ``--version`` and resolving it per frame.

* ``dataset``, ``ground_truth``, ``triangulated``, ``corrected``: the frame's latest skeleton of that source;
* ``latest-accepted``: the corrected skeleton of the frame's most recently accepted task (by review time),
  else the frame's dataset skeleton;
* an integer ``N``: the frame's Skeleton3D version ``N``.

A frame without the asked skeleton is an error naming the frame, never a silent gap in the output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from annotator.exceptions import ApplicationError
from annotator.models import Skeleton3D, Task

LATEST_ACCEPTED = "latest-accepted"
#: The versions that can be named; any positive integer is accepted as well.
NAMED_VERSIONS: tuple[str, ...] = (LATEST_ACCEPTED, *Skeleton3D.Source.values)


class UnknownVersionError(ApplicationError):
    """``--version`` names no source, no ``latest-accepted`` and no version number."""


class MissingVersionError(ApplicationError):
    """A frame has no skeleton of the asked version; the message names the frame."""


@dataclass(frozen=True)
class VersionSpec:
    """A parsed ``--version``: exactly one of ``source``, ``number``, ``latest_accepted`` is set."""

    text: str
    source: str | None = None
    number: int | None = None
    latest_accepted: bool = False


def parse_version(text: str | int) -> VersionSpec:
    """``"dataset"`` / ``"latest-accepted"`` / ``"3"`` ... -> VersionSpec; UnknownVersionError otherwise."""
    value = str(text).strip()
    if value == LATEST_ACCEPTED:
        return VersionSpec(value, latest_accepted=True)
    if value in Skeleton3D.Source.values:
        return VersionSpec(value, source=value)
    if value.isdigit() and int(value) > 0:
        return VersionSpec(value, number=int(value))
    raise UnknownVersionError(
        f"unknown version {value!r}: use {', '.join(NAMED_VERSIONS)} or a skeleton version number",
        extra={"field": "version", "choices": list(NAMED_VERSIONS)},
    )


@dataclass
class ResolvedSkeleton:
    """The skeleton exported for one frame, and the task whose corrections made it (None when no task did)."""

    id: int
    version: int
    source: str
    keypoints: np.ndarray  # (J, 3) world mm, NaN where unknown
    task_id: int | None = None


def _latest(rows: Iterable[tuple]) -> dict[int, ResolvedSkeleton]:
    """Rows (id, frame_id, version, source, keypoints) ordered by version -> the last per frame."""
    return {frame_id: ResolvedSkeleton(pk, version, source, points) for pk, frame_id, version, source, points in rows}


_FIELDS = ("id", "frame_id", "version", "source", "keypoints")


def resolve(spec: VersionSpec, frame_ids: list[int], describe: Callable[[int], str]) -> dict[int, ResolvedSkeleton]:
    """The skeleton of every frame in ``frame_ids`` under ``spec``; MissingVersionError names the first frame without.

    ``describe(frame_id)`` gives the frame's name for the error ("S1 / Walking 1 / frame 10").
    """
    skeletons = Skeleton3D.objects.filter(frame_id__in=frame_ids)
    if spec.source is not None:
        found = _latest(skeletons.filter(source=spec.source).order_by("version").values_list(*_FIELDS))
    elif spec.number is not None:
        found = _latest(skeletons.filter(version=spec.number).values_list(*_FIELDS))
    else:
        accepted = (
            Task.objects.filter(frame_id__in=frame_ids, status=Task.Status.ACCEPTED, result_skeleton__isnull=False)
            .order_by("reviewed_at", "pk")
            .values_list("frame_id", "pk", "result_skeleton_id")
        )
        latest_task = {frame_id: (task_id, skeleton_id) for frame_id, task_id, skeleton_id in accepted}
        by_id = {
            row[0]: row
            for row in Skeleton3D.objects.filter(pk__in=[s for _, s in latest_task.values()]).values_list(*_FIELDS)
        }
        found = _latest(by_id[skeleton_id] for _, skeleton_id in latest_task.values())
        for frame_id, (task_id, _) in latest_task.items():
            found[frame_id].task_id = task_id
        rest = [f for f in frame_ids if f not in found]
        if rest:
            dataset = skeletons.filter(frame_id__in=rest, source=Skeleton3D.Source.DATASET).order_by("version")
            found.update(_latest(dataset.values_list(*_FIELDS)))
    missing = [f for f in frame_ids if f not in found]
    if missing:
        what = f"version {spec.number}" if spec.number is not None else f"{spec.text} skeleton"
        if spec.latest_accepted:
            what = "accepted or dataset skeleton"
        raise MissingVersionError(
            f"frame {describe(missing[0])} has no {what}" + (f" ({len(missing)} frames lack it)" if len(missing) > 1
                                                             else ""),
            extra={"frame": missing[0], "version": spec.text, "frames_missing": len(missing)},
        )  # fmt: skip
    if not spec.latest_accepted:
        # A corrected skeleton is some task's result: its corrections are that task's.
        corrected = {s.id: s for s in found.values() if s.source == Skeleton3D.Source.CORRECTED}
        if corrected:
            rows = Task.objects.filter(result_skeleton_id__in=corrected).order_by("pk")
            for task_id, skeleton_id in rows.values_list("pk", "result_skeleton_id"):
                corrected[skeleton_id].task_id = task_id
    return found
