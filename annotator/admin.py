"""Admin pages for the domain tables (read-mostly: arrays are shown, not edited)."""

from django.contrib import admin

from annotator.models import (
    Camera,
    Correction,
    Dataset,
    Detection2D,
    Frame,
    PartValidity,
    Sequence,
    Skeleton3D,
    Subject,
    Task,
    TaskLock,
    View,
)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "source_format", "layout_version", "created_at"]
    search_fields = ["name", "description"]


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


@admin.register(View)
class ViewAdmin(admin.ModelAdmin):
    list_display = ["__str__", "image_path", "sample_id"]
    list_filter = ["frame__sequence__subject__dataset", "camera__name"]
    list_select_related = ["frame__sequence__subject__dataset", "camera"]
    search_fields = ["image_path"]
    raw_id_fields = ["frame", "camera"]


@admin.register(Detection2D)
class Detection2DAdmin(admin.ModelAdmin):
    list_display = ["view", "detector", "created_at"]
    raw_id_fields = ["view"]


@admin.register(Skeleton3D)
class Skeleton3DAdmin(admin.ModelAdmin):
    list_display = ["frame", "version", "source", "created_by", "created_at"]
    list_filter = ["source", "frame__sequence__subject__dataset"]
    list_select_related = ["frame__sequence__subject__dataset", "created_by"]
    raw_id_fields = ["frame", "parent"]
    readonly_fields = ["keypoints"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "frame", "assignee", "status", "priority", "revision", "updated_at"]
    list_filter = ["status", "frame__sequence__subject__dataset"]
    list_select_related = ["frame__sequence__subject", "assignee"]
    search_fields = ["assignee__username"]
    raw_id_fields = ["frame", "base_skeleton", "result_skeleton"]
    filter_horizontal = ["views"]
    readonly_fields = ["revision", "current_keypoints", "result_skeleton", "created_at", "updated_at"]


class _AppendOnlyAdmin(admin.ModelAdmin):
    """Append-only history: visible in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Correction)
class CorrectionAdmin(_AppendOnlyAdmin):
    list_display = ["task", "revision", "view", "keypoint", "x", "y", "flag", "kind", "source", "author", "created_at"]
    list_filter = ["kind", "flag", "source"]
    list_select_related = ["view__camera", "author"]


@admin.register(PartValidity)
class PartValidityAdmin(_AppendOnlyAdmin):
    list_display = ["task", "revision", "view", "part", "valid", "kind", "author", "created_at"]
    list_filter = ["part", "valid"]


@admin.register(TaskLock)
class TaskLockAdmin(admin.ModelAdmin):
    list_display = ["task", "holder", "channel_name", "acquired_at", "heartbeat_at"]
    raw_id_fields = ["task"]
