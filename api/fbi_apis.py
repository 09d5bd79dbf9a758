"""FBI endpoints: the labeller of one FBI task (payload, answers, submit), and the reviewers' side: labelling
jobs from 3D, the agreement analysis, and sending probable depth errors to the correction queue.

Task endpoints find the task through ``selectors.task_get_for`` (another annotator's task is a 404);
the others are for reviewers and admins (``IsReviewer``). Each view validates with its InputSerializer,
calls one service or selector, and answers with its OutputSerializer or the selector's plain data.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import fbi, keypoints, selectors
from annotator.models import FBIAnswer
from annotator.selectors import fbi as fbi_selectors
from annotator.selectors.jobs import job_dict
from annotator.selectors.studies import study_get
from annotator.services import fbi as fbi_services
from annotator.services.fbi_labels import ALL_SOURCES, FBI_JOB_KIND, SOURCE_CHOICES
from annotator.tasks import job_submit
from api.fields import DatasetNameField, IdField, StrictFloatField, StrictIntegerField, TextField
from api.permissions import IsReviewer


class FBITaskApi(APIView):
    """Everything the FBI labeller draws: bones, views with images and projected 2D skeleton, answers so far."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, task_id: int):
        task = selectors.task_get_for(user=request.user, task_id=task_id)
        return Response(fbi_selectors.fbi_task_payload(task=task, user=request.user))


class FBIAnswerCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FBIAnswerInput"

        view = IdField()
        parent = StrictIntegerField(min_value=0, max_value=keypoints.NUM_KEYPOINTS - 1)
        child = StrictIntegerField(min_value=0, max_value=keypoints.NUM_KEYPOINTS - 1)
        label = serializers.ChoiceField(choices=FBIAnswer.Label.values)
        seconds = StrictFloatField(min_value=0, max_value=fbi_services.MAX_ANSWER_SECONDS)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FBIAnswerOutput"

        id = serializers.IntegerField()
        view = serializers.IntegerField(source="view_id")
        parent = serializers.IntegerField()
        child = serializers.IntegerField()
        label = serializers.CharField()
        seconds = serializers.FloatField()
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, task_id: int):
        task = selectors.task_get_for(user=request.user, task_id=task_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = fbi_services.fbi_answer_create(task=task, user=request.user, **data.validated_data)
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_201_CREATED)


class FBISubmitApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FBISubmitOutput"

        id = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(request=None, responses={200: OutputSerializer})
    def post(self, request, task_id: int):
        task = selectors.task_get_for(user=request.user, task_id=task_id)
        task = fbi_services.fbi_task_submit(task=task, user=request.user)
        return Response(self.OutputSerializer(task).data)


class JobFBICreateApi(APIView):
    """Start (or resume) labelling a dataset's skeletons from 3D in the worker; follow it at ``/api/jobs/<id>/``."""

    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FBIJobInput"

        dataset = DatasetNameField()
        source = serializers.ChoiceField(choices=SOURCE_CHOICES, default=ALL_SOURCES)
        # One of the dataset layout's subsets (the service checks); "" or absent: the layout's default.
        bones = serializers.ChoiceField(choices=keypoints.ALL_BONE_SUBSETS, default="", allow_blank=True)
        unknown_tilt_deg = StrictFloatField(min_value=0, max_value=89.9, default=fbi.DEFAULT_UNKNOWN_TILT_DEG)

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        dataset = selectors.dataset_get(name=params.pop("dataset"))
        job, resumed, _ = job_submit(kind=FBI_JOB_KIND, dataset=dataset, created_by=request.user, **params)
        return Response({**job_dict(job=job), "resumed": resumed}, status=status.HTTP_201_CREATED)


class FBIAgreementApi(APIView):
    """People's FBI answers against the dataset, corrected and true skeletons (see ``selectors.fbi.fbi_agreement``)."""

    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FBIAgreementFilter"

        dataset = DatasetNameField(required=False)
        study = IdField(required=False)

        def validate(self, attrs):
            if "dataset" not in attrs and "study" not in attrs:
                raise serializers.ValidationError("name a dataset or a study")
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        study_id = filters.validated_data.get("study")
        if study_id is not None:
            study = study_get(study_id=study_id)
            report = fbi_selectors.fbi_agreement_for_study(study=study)
        else:
            dataset = selectors.dataset_get(name=filters.validated_data["dataset"])
            report = fbi_selectors.fbi_agreement(dataset=dataset)
        return Response({"fbi": report})


class FBIDepthErrorTasksApi(APIView):
    """Give an annotator correction tasks (ahead of their queue) on frames with probable depth errors."""

    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FBIDepthErrorTasksInput"

        frames = serializers.ListField(child=IdField(), allow_empty=False, max_length=1000)
        annotator = TextField(column="auth.User.username")

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        out = fbi_services.fbi_depth_error_tasks_create(
            frame_ids=data.validated_data["frames"], assignee=data.validated_data["annotator"], created_by=request.user
        )
        answer = {
            "created": [{"task": t.pk, "frame": t.frame_id, "url": t.page_url} for t in out.created],
            "skipped": [{"frame": f, "reason": reason} for f, reason in out.skipped.items()],
        }
        return Response(answer, status=status.HTTP_201_CREATED)
