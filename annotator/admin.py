"""Admin pages for every table of the domain.

Read-mostly: arrays (skeletons, 2D keypoint sets, FBI label vectors) are shown as text, never edited; the
append-only history (corrections, part validity, FBI answers) and what the worker writes (jobs, chunks,
scores, automatic labels, exports) can be looked at but not added, changed or deleted here, because their
services keep invariants (revisions, progress, files on disk) that a form would break. Tasks, studies and
datasets keep the fields an admin may fix by hand (priority, assignee, descriptions).
"""

from __future__ import annotations

import numpy as np
from django.contrib import admin
from django.utils.html import format_html

from annotator import keypoints
from annotator.models import (
    Camera,
    Correction,
    Dataset,
    Detection2D,
    Export,
    FBIAnswer,
    FBIAutoLabels,
    Frame,
    Job,
    JobChunk,
    PartValidity,
    QualityScore,
    Sequence,
    Skeleton3D,
    Study,
    StudyItem,
    Subject,
    Task,
    TaskLock,
    View,
)

#: Decimals shown of array values (mm or px): enough to read a skeleton, not a dump of float64 noise.
ARRAY_DECIMALS = 1


def array_text(value, layout: keypoints.Layout | None = None) -> str:
    """A keypoint or label array as readable text: shape, missing values, then the numbers (one row per keypoint,
    named in ``layout``, the row's dataset's, for 2-D arrays of its count). ``value`` is what the array fields
    return: an ndarray, or None."""
    if value is None:
        return "–"
    arr = np.asarray(value)
    missing = int(np.isnan(arr).sum()) if arr.dtype.kind == "f" else 0
    head = f"shape {arr.shape}, {arr.dtype}, {missing} missing"
    if layout is not None and arr.ndim == 2 and arr.shape[0] == layout.num_keypoints:
        rows = [
            f"{k:>3} {layout.names[k]:<22} " + " ".join(f"{v:10.{ARRAY_DECIMALS}f}" for v in row)
            for k, row in enumerate(arr)
        ]
        return "\n".join([head, *rows])
    body = np.array2string(arr, precision=ARRAY_DECIMALS, threshold=10_000, max_line_width=110)
    return f"{head}\n{body}"


def array_html(value, layout: keypoints.Layout | None = None):
    return format_html('<pre class="array">{}</pre>', array_text(value, layout))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible in the admin (list and detail pages), never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "source_format", "layout_version", "created_at"]
    search_fields = ["name", "description"]
    # The name is in every URL and export file name: it is set once, by the importer (which checks it is a
    # slug), and a dataset without its frames would be an empty shell, so the admin neither adds nor renames.
    readonly_fields = ["name", "layout_version", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset"]
    list_filter = ["dataset"]


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "model", "width", "height"]
    list_filter = ["subject__dataset", "model"]


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["action", "subject"]
    list_filter = ["subject__dataset", "subject"]
    search_fields = ["action"]


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    list_display = ["__str__", "index"]
    list_filter = ["sequence__subject__dataset", "sequence__subject"]
    list_select_related = ["sequence__subject__dataset"]
    raw_id_fields = ["sequence"]


@admin.register(View)
class ViewAdmin(admin.ModelAdmin):
    list_display = ["__str__", "image_path", "sample_id"]
    list_filter = ["frame__sequence__subject__dataset", "camera__name"]
    list_select_related = ["frame__sequence__subject__dataset", "camera"]
    search_fields = ["image_path"]
    raw_id_fields = ["frame", "camera"]


@admin.register(Detection2D)
class Detection2DAdmin(ReadOnlyAdmin):
    list_display = ["view", "detector", "created_at"]
    list_select_related = ["view__frame__sequence__subject", "view__camera"]
    fields = ["view", "detector", "keypoints_2d_text", "scores_text", "created_at"]
    readonly_fields = fields

    @admin.display(description="keypoints 2D (px)")
    def keypoints_2d_text(self, obj):
        return array_html(obj.keypoints_2d, obj.view.frame.sequence.subject.dataset.layout)

    @admin.display(description="scores")
    def scores_text(self, obj):
        return array_html(obj.scores)


@admin.register(Skeleton3D)
class Skeleton3DAdmin(ReadOnlyAdmin):
    list_display = ["frame", "version", "source", "created_by", "created_at"]
    list_filter = ["source", "frame__sequence__subject__dataset"]
    list_select_related = ["frame__sequence__subject__dataset", "created_by"]
    fields = ["frame", "version", "source", "parent", "created_by", "note", "created_at", "keypoints_text"]
    readonly_fields = fields

    @admin.display(description="keypoints (world mm)")
    def keypoints_text(self, obj):
        return array_html(obj.keypoints, obj.frame.sequence.subject.dataset.layout)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "frame", "assignee", "status", "study", "priority", "revision", "updated_at"]
    list_filter = ["kind", "status", "frame__sequence__subject__dataset", "study"]
    list_select_related = ["frame__sequence__subject", "assignee", "study"]
    search_fields = ["assignee__username", "review_comment"]
    # A raw id, not a select box: there may be many users.
    raw_id_fields = ["assignee"]
    # What a task is about, its status, review and revision change through the services (they check the task's
    # state, bump the revision and tell the browsers); an admin reassigns a task or changes its priority.
    readonly_fields = ["kind", "bones", "frame", "views", "base_skeleton", "study", "status", "revision",
                       "review_comment", "reviewed_by", "reviewed_at", "result_skeleton", "created_by", "created_at",
                       "updated_at", "started_at", "submitted_at", "current_keypoints_text"]  # fmt: skip

    def has_add_permission(self, request):
        # Tasks are made by the services (make_demo, studies, the FBI form): they need a base skeleton's copy.
        return False

    @admin.display(description="current keypoints (world mm)")
    def current_keypoints_text(self, obj):
        return array_html(obj.current_keypoints, obj.frame.sequence.subject.dataset.layout)


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    list_display = ["task", "revision", "view", "keypoint", "x", "y", "flag", "kind", "source", "author", "created_at"]
    list_filter = ["kind", "flag", "source"]
    list_select_related = ["view__camera", "view__frame__sequence__subject", "author", "task"]


@admin.register(PartValidity)
class PartValidityAdmin(ReadOnlyAdmin):
    list_display = ["task", "revision", "view", "part", "valid", "kind", "author", "created_at"]
    list_filter = ["part", "valid"]
    list_select_related = ["view__camera", "view__frame__sequence__subject", "author", "task"]


@admin.register(TaskLock)
class TaskLockAdmin(admin.ModelAdmin):
    """A lock an editor holds; deleting one here frees a task whose browser vanished without releasing it."""

    list_display = ["task", "holder", "channel_name", "acquired_at", "heartbeat_at"]
    raw_id_fields = ["task"]
    readonly_fields = ["task", "holder", "channel_name", "acquired_at", "heartbeat_at"]

    def has_add_permission(self, request):
        return False


class StudyItemInline(admin.TabularInline):
    model = StudyItem
    fields = ["frame", "view", "is_honeypot"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(Study)
class StudyAdmin(ReadOnlyAdmin):
    list_display = ["name", "dataset", "mode", "n_items", "n_honeypots", "per_item", "seed", "created_by", "created_at"]
    list_filter = ["dataset", "mode"]
    list_select_related = ["dataset", "created_by"]
    search_fields = ["name"]
    inlines = [StudyItemInline]


@admin.register(StudyItem)
class StudyItemAdmin(ReadOnlyAdmin):
    list_display = ["study", "frame", "view", "is_honeypot"]
    list_filter = ["study", "is_honeypot"]
    list_select_related = ["study", "frame__sequence__subject", "view__camera", "view__frame__sequence__subject"]


class JobChunkInline(admin.TabularInline):
    model = JobChunk
    fields = ["index", "status", "attempts", "worker", "started_at", "finished_at", "error"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "dataset", "status", "progress_done", "progress_total", "created_by", "created_at",
                    "finished_at"]  # fmt: skip
    list_filter = ["kind", "status", "dataset"]
    list_select_related = ["dataset", "created_by"]
    inlines = [JobChunkInline]


@admin.register(JobChunk)
class JobChunkAdmin(ReadOnlyAdmin):
    list_display = ["job", "index", "status", "attempts", "worker", "started_at", "finished_at"]
    list_filter = ["status", "job__kind"]
    list_select_related = ["job"]


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "dataset", "format", "version", "status", "samples", "size_bytes", "created_by", "created_at"]
    list_filter = ["format", "dataset"]
    list_select_related = ["dataset", "job", "created_by"]

    @admin.display(description="status")
    def status(self, obj):
        return obj.job.status


@admin.register(QualityScore)
class QualityScoreAdmin(ReadOnlyAdmin):
    list_display = ["skeleton", "score", "model_name", "checkpoint", "created_at"]
    list_filter = ["model_name"]
    list_select_related = ["skeleton__frame__sequence__subject"]


@admin.register(FBIAutoLabels)
class FBIAutoLabelsAdmin(ReadOnlyAdmin):
    list_display = ["skeleton", "view", "bones_subset", "unknown_tilt_deg", "created_at"]
    list_filter = ["bones_subset"]
    list_select_related = ["skeleton__frame__sequence__subject", "view__camera", "view__frame__sequence__subject"]
    fields = ["skeleton", "view", "bones_subset", "unknown_tilt_deg", "created_at", "labels_text", "tilt_text"]
    readonly_fields = fields

    @admin.display(description="labels (one per bone)")
    def labels_text(self, obj):
        return array_html(obj.labels)

    @admin.display(description="tilt (degrees, one per bone)")
    def tilt_text(self, obj):
        return array_html(obj.tilt)


@admin.register(FBIAnswer)
class FBIAnswerAdmin(ReadOnlyAdmin):
    list_display = ["task", "view", "bone", "label", "seconds", "author", "created_at"]
    list_filter = ["label"]
    list_select_related = ["task", "view__camera", "view__frame__sequence__subject__dataset", "author"]

    @admin.display(description="bone")
    def bone(self, obj):
        return obj.view.frame.sequence.subject.dataset.layout.bone_name(obj.parent, obj.child)
