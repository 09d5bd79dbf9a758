"""Every non-trivial read of the domain tables: querysets with their joins, or plain dicts."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from annotator import keypoints
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.models import Dataset, Frame, Skeleton3D, View


def dataset_list() -> QuerySet[Dataset]:
    """Datasets with their subject, sequence and frame counts (``n_subjects``, ``n_sequences``, ``n_frames``)."""
    return Dataset.objects.annotate(
        n_subjects=Count("subjects", distinct=True),
        n_sequences=Count("subjects__sequences", distinct=True),
        n_frames=Count("subjects__sequences__frames", distinct=True),
    ).order_by("name")


def dataset_get(*, name: str) -> Dataset:
    try:
        return dataset_list().get(name=name)
    except Dataset.DoesNotExist:
        raise NotFoundError(f"no dataset named {name!r}") from None


def dataset_overview(*, dataset: Dataset) -> dict:
    """Per-subject counts, cameras and skeleton sources of a dataset, as plain data."""
    frames = Frame.objects.filter(sequence__subject__dataset=dataset)
    per_subject = {
        row["sequence__subject__name"]: {"frames": row["n"]}
        for row in frames.values("sequence__subject__name").annotate(n=Count("id")).order_by("sequence__subject__name")
    }
    for subject in dataset.subjects.prefetch_related("sequences", "cameras"):
        entry = per_subject.setdefault(subject.name, {"frames": 0})
        entry["sequences"] = sorted(s.action for s in subject.sequences.all())
        entry["cameras"] = [c.name for c in subject.cameras.all()]
    sources = dict(
        Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset)
        .values("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    views = View.objects.filter(frame__sequence__subject__dataset=dataset)
    return {
        "name": dataset.name,
        "description": dataset.description,
        "source_format": dataset.source_format,
        "layout_version": dataset.layout_version,
        # What the pages say about the layout: "COCO-17, 17 keypoints".
        "layout": {"title": dataset.layout.title, "num_keypoints": dataset.layout.num_keypoints},
        "has_images": bool(dataset.image_root),
        "n_frames": frames.count(),
        "n_views": views.count(),
        "skeletons_by_source": sources,
        "subjects": per_subject,
    }


def layout_for(*, dataset: str | None = None, layout: str | None = None) -> dict:
    """The browser's JSON (``Layout.to_json``) of dataset ``dataset``'s layout, of preset ``layout``, or the default.

    An unknown dataset is NotFoundError; an unknown layout an ApplicationError listing the known ones.
    """
    if dataset is not None:
        return dataset_get(name=dataset).layout.json
    if layout is not None:
        try:
            return keypoints.layout_get(layout).json
        except keypoints.LayoutError as exc:
            raise ApplicationError(str(exc), extra={"field": "layout", "choices": list(keypoints.LAYOUTS)}) from None
    return keypoints.DEFAULT_LAYOUT.json


def layouts_in_use() -> list[dict]:
    """The layouts of the datasets (layout JSON plus ``datasets``: their names), the default first when none."""
    by_version: dict[str, list[str]] = {}
    for name, version in Dataset.objects.order_by("name").values_list("name", "layout_version"):
        by_version.setdefault(version, []).append(name)
    if not by_version:
        by_version[keypoints.LAYOUT_VERSION] = []
    return [{**keypoints.layout_get(version).json, "datasets": names} for version, names in sorted(by_version.items())]
