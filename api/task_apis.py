"""Task endpoints of the correction workflow: queue, editor state, corrections, undo/redo, submit, review.

Each view validates with its InputSerializer, calls one service or selector, and answers through its
OutputSerializer (or the selector's plain data). Visibility comes from ``selectors.task_get_for``:
annotators see only their own tasks, and another annotator's task is a 404, never a 403.
"""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import selectors
from annotator.models import Correction, PartValidity, Task
from annotator.services import annotations, reviews, tasks
from annotator.services.reviews import MAX_COMMENT_CHARS
from api.fields import IdField, PixelField, RevisionField, StrictIntegerField
from api.permissions import IsReviewer

#: Schema of the editor payload (GET /api/tasks/{id}/): documented as an object; see the selector.
#: Longest part name a request may send (``PartValidity.part``); which names are valid is the layout's.
PART_MAX_CHARS = PartValidity._meta.get_field("part").max_length
#: Largest keypoint index a request may carry (the integer column's); the task's dataset layout bounds it
#: further, checked by the services so their message names the layout.
KEYPOINT_INDEX_MAX = 2**31 - 1
EDITOR_PAYLOAD = OpenApiTypes.OBJECT


class CorrectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    revision = serializers.IntegerField()
    view = serializers.IntegerField(source="view_id")
    keypoint = serializers.IntegerField()
    x = serializers.FloatField(allow_null=True)
    y = serializers.FloatField(allow_null=True)
    flag = serializers.CharField()
    kind = serializers.CharField()
    source = serializers.CharField()
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()


CORRECTION_ANSWER = inline_serializer(
    "CorrectionAnswer",
    fields={
        "revision": serializers.IntegerField(),
        "point_3d": serializers.ListField(child=serializers.FloatField(), allow_null=True),
        "reprojections": serializers.DictField(child=serializers.ListField(child=serializers.FloatField())),
        "residuals": serializers.DictField(child=serializers.FloatField(allow_null=True)),
        "flagged_views": serializers.ListField(child=serializers.IntegerField()),
        "correction": CorrectionOutputSerializer(allow_null=True),
        "part_validity": inline_serializer(
            "UndonePartValidity",
            fields={
                "revision": serializers.IntegerField(),
                "view": serializers.IntegerField(),
                "part": serializers.CharField(),
                "valid": serializers.BooleanField(),
            },
            required=False,
        ),
    },
)


#: The request header that names the editor session (one browser tab) a request comes from; the edit lock
#: belongs to one session (``services.tasks.task_check_writable``). frontend/static/frontend/js/session.js sends it.
EDITOR_SESSION_HEADER = "X-Editor-Session"


def editor_session(request) -> str | None:
    """The editor session the request comes from (``EDITOR_SESSION_HEADER``), or None."""
    return request.headers.get(EDITOR_SESSION_HEADER) or None


class _TaskApi(APIView):
    """Base of the endpoints under /api/tasks/{id}/: finds the task the user may see."""

    def get_task(self, request, task_id: int) -> Task:
        return selectors.task_get_for(user=request.user, task_id=task_id)


class TaskListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskListFilter"

        status = serializers.ChoiceField(choices=Task.Status.choices, required=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskListOutput"

        id = serializers.IntegerField()
        kind = serializers.CharField()
        status = serializers.CharField()
        frame = serializers.SerializerMethodField()
        assignee = serializers.CharField(source="assignee.username")
        revision = serializers.IntegerField()
        n_corrections = serializers.IntegerField()
        updated_at = serializers.DateTimeField()
        url = serializers.SerializerMethodField()
        editor_url = serializers.SerializerMethodField()

        def get_frame(self, obj) -> dict:
            return selectors.task_frame_dict(obj)

        def get_url(self, obj) -> str:
            return reverse("api:task-detail", kwargs={"task_id": obj.pk})

        def get_editor_url(self, obj) -> str:
            return obj.page_url

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.task_list_for(user=request.user, status=filters.validated_data.get("status"))
        return Response(self.OutputSerializer(rows, many=True).data)


class TaskNextApi(APIView):
    """Start the next task of the caller's queue and answer with its editor payload (404 when the queue is empty)."""

    @extend_schema(request=None, responses={200: EDITOR_PAYLOAD})
    def post(self, request):
        task = tasks.task_start_next(user=request.user)
        return Response(selectors.task_editor_payload(task=task, user=request.user,
                                                      editor_session=editor_session(request)))  # fmt: skip


class TaskDetailApi(_TaskApi):
    """Everything the editor draws: views, cameras, base and current 2D, flags, validity, lock."""

    @extend_schema(responses={200: EDITOR_PAYLOAD})
    def get(self, request, task_id: int):
        task = self.get_task(request, task_id)
        return Response(selectors.task_editor_payload(task=task, user=request.user,
                                                      editor_session=editor_session(request)))  # fmt: skip


class TaskCorrectionCreateApi(_TaskApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskCorrectionCreateInput"

        view = IdField()
        # The upper bound is the task's dataset layout's: ``correction_create`` checks it and names the layout.
        keypoint = StrictIntegerField(min_value=0, max_value=KEYPOINT_INDEX_MAX)
        x = PixelField(allow_null=True)
        y = PixelField(allow_null=True)
        flag = serializers.ChoiceField(choices=Correction.Flag.choices, default=Correction.Flag.VISIBLE)
        source = serializers.ChoiceField(choices=Correction.Source.choices, default=Correction.Source.MANUAL)
        base_revision = RevisionField()

    @extend_schema(request=InputSerializer, responses={201: CORRECTION_ANSWER})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = annotations.correction_create(task=task, user=request.user, editor_session=editor_session(request),
                                               **data.validated_data)  # fmt: skip
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


class RevisionInputSerializer(serializers.Serializer):
    base_revision = RevisionField()


class TaskUndoApi(_TaskApi):
    @extend_schema(request=RevisionInputSerializer, responses={200: CORRECTION_ANSWER})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = RevisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = annotations.correction_undo(task=task, user=request.user, editor_session=editor_session(request),
                                             **data.validated_data)  # fmt: skip
        return Response(result.as_dict())


class TaskRedoApi(_TaskApi):
    @extend_schema(request=RevisionInputSerializer, responses={200: CORRECTION_ANSWER})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = RevisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = annotations.correction_redo(task=task, user=request.user, editor_session=editor_session(request),
                                             **data.validated_data)  # fmt: skip
        return Response(result.as_dict())


class TaskPartValidityApi(_TaskApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskPartValidityInput"

        view = IdField()
        # Which parts record validity is the task's dataset layout's: ``part_validity_set`` checks it.
        part = serializers.CharField(max_length=PART_MAX_CHARS)
        valid = serializers.BooleanField()
        base_revision = RevisionField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskPartValidityOutput"

        revision = serializers.IntegerField()
        view = serializers.IntegerField(source="view_id")
        part = serializers.CharField()
        valid = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        validity = annotations.part_validity_set(task=task, user=request.user, editor_session=editor_session(request),
                                                 **data.validated_data)  # fmt: skip
        return Response(self.OutputSerializer(validity).data, status=status.HTTP_201_CREATED)


class TaskSubmitApi(_TaskApi):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskSubmitOutput"

        status = serializers.CharField()
        skeleton = inline_serializer(
            "SubmittedSkeleton",
            fields={"id": serializers.IntegerField(), "version": serializers.IntegerField(),
                    "source": serializers.CharField()},
            source="result_skeleton",
        )  # fmt: skip

    @extend_schema(request=RevisionInputSerializer, responses={200: OutputSerializer})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = RevisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = tasks.task_submit(task=task, user=request.user, editor_session=editor_session(request),
                                 **data.validated_data)  # fmt: skip
        return Response(self.OutputSerializer(task).data)


class StatusOutputSerializer(serializers.Serializer):
    status = serializers.CharField()
    revision = serializers.IntegerField()


class TaskAcceptApi(_TaskApi):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskAcceptInput"

        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_COMMENT_CHARS)
        base_revision = RevisionField(help_text="the revision of the task the reviewer looked at")

    @extend_schema(request=InputSerializer, responses={200: StatusOutputSerializer})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = reviews.review_accept(task=task, reviewer=request.user, **data.validated_data)
        return Response(StatusOutputSerializer(task).data)


class TaskRejectApi(_TaskApi):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskRejectInput"

        comment = serializers.CharField(max_length=MAX_COMMENT_CHARS)
        base_revision = RevisionField(help_text="the revision of the task the reviewer looked at")

    @extend_schema(request=InputSerializer, responses={200: StatusOutputSerializer})
    def post(self, request, task_id: int):
        task = self.get_task(request, task_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = reviews.review_reject(task=task, reviewer=request.user, **data.validated_data)
        return Response(StatusOutputSerializer(task).data)


class TaskHistoryApi(_TaskApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskHistoryFilter"

        view = IdField(required=False)
        keypoint = StrictIntegerField(required=False, min_value=0, max_value=KEYPOINT_INDEX_MAX)

    @extend_schema(parameters=[FilterSerializer], responses={200: CorrectionOutputSerializer(many=True)})
    def get(self, request, task_id: int):
        task = self.get_task(request, task_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.task_history(task=task, **filters.validated_data)
        return Response(CorrectionOutputSerializer(rows, many=True).data)


class TaskEpipolarApi(_TaskApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskEpipolarFilter"

        view = IdField()
        x = PixelField()
        y = PixelField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskEpipolarOutput"

        curves = serializers.DictField(child=serializers.ListField(child=serializers.ListField()))

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer})
    def get(self, request, task_id: int):
        task = self.get_task(request, task_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        curves = selectors.task_epipolar_curves(task=task, **filters.validated_data)
        return Response(self.OutputSerializer({"curves": curves}).data)


class ViewImageApi(APIView):
    """The camera image of a view, for users who may see a task on its frame (reviewers and admins: any)."""

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY})
    def get(self, request, view_id: int):
        view = selectors.view_get_for_image(user=request.user, view_id=view_id)
        path = selectors.view_image_file(view=view)
        # The type Pillow found in the file, never the one its name suggests.
        return FileResponse(path.open("rb"), content_type=selectors.image_content_type(path))
