"""ML endpoints: the editor's refinement suggestions, and the reviewers' quality scoring jobs and reports.

``TaskRefineApi`` is open to whoever may see the task (``selectors.task_get_for``: another annotator's
task is a 404) and writes nothing. The job and quality endpoints are for reviewers and admins
(``IsReviewer``: annotators get 403). Each view validates with its InputSerializer / FilterSerializer,
calls one service or selector, and answers through its OutputSerializer.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import selectors
from annotator.models import Job, Skeleton3D
from annotator.selectors import jobs as job_selectors
from annotator.selectors import quality as quality_selectors
from annotator.selectors.refine import REFINE_PARTS
from api.fields import MAX_INT32, DatasetNameField, IdField, StrictIntegerField
from api.permissions import IsReviewer
from ml_services.suggestions import SUGGESTION_MODELS, part_suggestions
from ml_services.tasks import scoring_job_submit

#: Largest ``best`` (skeletons per subject) and frames-table page of the quality report.
MAX_BEST = 100_000
MAX_QUALITY_ROWS = 1000
MAX_BINS = 200


class TaskRefineApi(APIView):
    """Suggested positions of a part's keypoints in one view of a task (nothing is stored): from the pretrained
    whole-body model or a trained refiner; ``auto`` takes the refiner only where it fits the dataset."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskRefineInput"

        view = IdField()
        part = serializers.ChoiceField(choices=REFINE_PARTS)
        model = serializers.ChoiceField(choices=SUGGESTION_MODELS, default="auto")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TaskRefineOutput"

        view = serializers.IntegerField()
        part = serializers.CharField()
        source = serializers.ChoiceField(choices=SUGGESTION_MODELS[1:])
        model = serializers.CharField()
        label = serializers.CharField()
        reason = serializers.CharField()
        checkpoint = serializers.CharField()
        iterations = serializers.IntegerField(allow_null=True)
        score = serializers.FloatField(allow_null=True)
        suggestions = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()),
                                            source="points")  # fmt: skip

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, task_id: int):
        task = selectors.task_get_for(user=request.user, task_id=task_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        suggestions = part_suggestions(task=task, **data.validated_data)
        return Response(self.OutputSerializer(suggestions).data)


class JobOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "JobOutput"

    id = serializers.IntegerField()
    label = serializers.CharField()
    kind = serializers.CharField()
    dataset = serializers.CharField()
    source = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    chunk_errors = serializers.ListField(child=serializers.CharField())
    result = serializers.DictField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()


class JobListApi(APIView):
    """The newest background jobs (quality scoring, FBI labelling, ...), newest first."""

    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobListFilter"

        kind = serializers.ChoiceField(choices=Job.Kind.choices, required=False)
        dataset = DatasetNameField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: JobOutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        jobs = job_selectors.job_list(**filters.validated_data)
        return Response(JobOutputSerializer([job_selectors.job_dict(job=job) for job in jobs], many=True).data)


class JobDetailApi(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(responses={200: JobOutputSerializer})
    def get(self, request, job_id: int):
        job = job_selectors.job_get(job_id=job_id)
        return Response(JobOutputSerializer(job_selectors.job_dict(job=job)).data)


class JobScoreCreateApi(APIView):
    """Start (or resume) multi-crop quality scoring of a dataset's skeletons and enqueue its chunks for the workers."""

    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobScoreInput"

        dataset = DatasetNameField()
        source = serializers.ChoiceField(choices=Skeleton3D.Source.choices, default=Skeleton3D.Source.DATASET)

    class OutputSerializer(JobOutputSerializer):
        class Meta:
            ref_name = "JobScoreOutput"

        job = serializers.IntegerField()
        resumed = serializers.BooleanField()
        enqueued = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = selectors.dataset_get(name=data.validated_data["dataset"])
        job, resumed, enqueued = scoring_job_submit(dataset=dataset, source=data.validated_data["source"],
                                                    created_by=request.user)  # fmt: skip
        answer = {**job_selectors.job_dict(job=job), "job": job.pk, "resumed": resumed, "enqueued": enqueued}
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_201_CREATED)


class DatasetQualityApi(APIView):
    """The quality report of a dataset's scored skeletons: distribution, correlation with the true error, best K
    per subject (``?best=K``) and the skeletons sorted by score (worst first by default)."""

    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DatasetQualityFilter"

        source = serializers.ChoiceField(choices=Skeleton3D.Source.choices, default=Skeleton3D.Source.DATASET)
        bins = StrictIntegerField(min_value=1, max_value=MAX_BINS, default=quality_selectors.DEFAULT_BINS)
        best = StrictIntegerField(min_value=1, max_value=MAX_BEST, required=False)
        sort = serializers.ChoiceField(choices=quality_selectors.QUALITY_SORTS, default="worst")
        limit = StrictIntegerField(min_value=0, max_value=MAX_QUALITY_ROWS, default=100)
        offset = StrictIntegerField(min_value=0, max_value=MAX_INT32, default=0)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DatasetQualityOutput"

        dataset = serializers.CharField()
        source = serializers.CharField()
        checkpoint = serializers.CharField()
        job = inline_serializer("QualityJob", fields={"id": serializers.IntegerField(),
                                                      "status": serializers.CharField(),
                                                      "done": serializers.IntegerField(),
                                                      "total": serializers.IntegerField()})  # fmt: skip
        n_skeletons = serializers.IntegerField()
        n_scored = serializers.IntegerField()
        quantiles = serializers.ListField(child=serializers.DictField())
        histogram = serializers.DictField(child=serializers.ListField())
        truth = serializers.DictField(allow_null=True)
        frames = serializers.DictField()
        best = serializers.DictField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer})
    def get(self, request, name: str):
        dataset = selectors.dataset_get(name=name)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        report = quality_selectors.dataset_quality_report(dataset=dataset, **filters.validated_data)
        return Response(self.OutputSerializer(report).data)
