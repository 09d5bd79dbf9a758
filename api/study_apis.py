"""Study endpoints of the reviewer dashboard: list and create studies, a study's report and its frames table.

Reviewers and admins only (``IsReviewer``: annotators get 403). Each view validates with its
InputSerializer / FilterSerializer, calls one service or selector, and answers through its
OutputSerializer or the selector's plain data (the report is documented as an object; see
``annotator.crosscheck.study_report``).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import crosscheck, keypoints, names
from annotator.models import Study
from annotator.selectors import studies as selectors
from annotator.services.studies import MAX_PER_ITEM, MAX_STUDY_ITEMS, study_create
from api.fields import MAX_INT32, DatasetNameField, StrictIntegerField, TextField, TextListField
from api.permissions import IsReviewer

#: Rows of the frames table per request, at most.
MAX_FRAME_ROWS = 1000


class StudyOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "StudyOutput"

    id = serializers.IntegerField()
    name = serializers.CharField()
    dataset = serializers.CharField(source="dataset.name")
    subjects = serializers.ListField(child=serializers.CharField())
    mode = serializers.CharField()
    n_items = serializers.IntegerField()
    n_honeypots = serializers.IntegerField()
    seed = serializers.IntegerField()
    per_item = serializers.IntegerField()
    annotators = serializers.SerializerMethodField()
    n_tasks = serializers.IntegerField()
    n_finished = serializers.IntegerField()
    n_accepted = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_annotators(self, obj) -> list[str]:
        return sorted(u.username for u in obj.annotators.all())

    def get_url(self, obj) -> str:
        return reverse("frontend:review-study", kwargs={"study_id": obj.pk})


class StudyListApi(APIView):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StudyCreateInput"

        name = serializers.SlugField(max_length=names.MAX_NAME_LENGTH)
        dataset = DatasetNameField()
        subjects = TextListField(column="annotator.Subject.name", required=False, default=list)
        n_items = StrictIntegerField(min_value=1, max_value=MAX_STUDY_ITEMS)
        mode = serializers.ChoiceField(choices=Study.Mode.choices, default=Study.Mode.IMAGE)
        seed = StrictIntegerField(min_value=0, max_value=MAX_INT32, default=0)
        annotators = TextListField(column="auth.User.username", allow_empty=False)
        per_item = StrictIntegerField(min_value=1, max_value=MAX_PER_ITEM, default=1)
        n_honeypots = StrictIntegerField(min_value=0, max_value=MAX_STUDY_ITEMS, default=0)

    @extend_schema(responses={200: StudyOutputSerializer(many=True)})
    def get(self, request):
        return Response(StudyOutputSerializer(selectors.study_list(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: StudyOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = study_create(**data.validated_data, created_by=request.user)
        return Response(StudyOutputSerializer(selectors.study_get(study_id=study.pk)).data, status.HTTP_201_CREATED)


class StudyReportApi(APIView):
    """The cross-check report of a study's submitted and accepted tasks (see ``crosscheck.study_report``)."""

    permission_classes = [IsReviewer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, study_id: int):
        study = selectors.study_get(study_id=study_id)
        # The sensitivity table replays the study 25 times: the page fetches it apart (StudySensitivityApi).
        return Response(selectors.study_report(study=study, sensitivity=False))


class StudySensitivityApi(APIView):
    """Measured/true per part over a grid of annotator thresholds and placement spreads, replayed in memory from
    the study's own tasks with ground truth (``instrument.sensitivity_table``; null without ground truth)."""

    permission_classes = [IsReviewer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, study_id: int):
        study = selectors.study_get(study_id=study_id)
        return Response({"sensitivity": selectors.study_sensitivity(study=study)})


class StudyFramesApi(APIView):
    """The study's finished tasks as table rows, filtered and sorted by error (worst first by default)."""

    permission_classes = [IsReviewer]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StudyFramesFilter"

        sort = serializers.ChoiceField(choices=crosscheck.SORTS, default="worst")
        part = serializers.ChoiceField(choices=keypoints.METRIC_PART_NAMES, default="all")
        camera = TextField(column="annotator.Camera.name", required=False)
        annotator = TextField(column="auth.User.username", required=False)
        keypoint = StrictIntegerField(required=False, min_value=0, max_value=keypoints.NUM_KEYPOINTS - 1)
        limit = StrictIntegerField(required=False, min_value=1, max_value=MAX_FRAME_ROWS, default=100)
        offset = StrictIntegerField(required=False, min_value=0, max_value=MAX_INT32, default=0)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StudyFramesOutput"

        class RowSerializer(serializers.Serializer):
            class Meta:
                ref_name = "StudyFrameRow"

            task = serializers.IntegerField()
            frame = serializers.IntegerField()
            label = serializers.CharField()
            cameras = serializers.ListField(child=serializers.CharField())
            annotator = serializers.CharField()
            status = serializers.CharField()
            honeypot = serializers.BooleanField()
            error_3d_mm = serializers.DictField(child=serializers.FloatField(allow_null=True))
            sort_error = serializers.FloatField(allow_null=True)
            mean_2d_px = serializers.FloatField(allow_null=True)
            true_3d_mm = serializers.FloatField(allow_null=True)
            n_corrected = serializers.IntegerField()
            review_url = serializers.CharField()

        count = serializers.IntegerField()
        rows = RowSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer})
    def get(self, request, study_id: int):
        study = selectors.study_get(study_id=study_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        table = selectors.study_frames(study=study, **filters.validated_data)
        return Response(self.OutputSerializer(table).data)
