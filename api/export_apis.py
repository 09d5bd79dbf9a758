"""Export and evaluation endpoints (reviewers and admins): start an export job, list exports, download a finished
file, evaluate an uploaded predictions file. Errors come out as ``{"message", "extra"}`` like everywhere else."""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import camera_formats, evaluation, tasks
from annotator.evaluation import TASKS, evaluate_upload
from annotator.exporters import FORMATS
from annotator.selectors.exports import EXPORT_FILES, export_file, export_get, export_list
from annotator.services.exports import EXPORT_JOB_KIND
from api.fields import DatasetNameField, TextField, TextListField
from api.parsers import limited_multipart
from api.permissions import IsReviewer

#: Bytes of an evaluation request beyond the predictions file itself (other fields, multipart boundaries).
UPLOAD_FRAMING_BYTES = 64 * 1024


def _download_url(export, **query) -> str:
    """The download URL of ``export``; ``file=`` picks a side file (provenance, rig)."""
    url = reverse("api:export-download", kwargs={"export_id": export.pk})
    return f"{url}?{urlencode(query)}" if query else url


class ExportOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ExportOutput"

    id = serializers.IntegerField()
    dataset = serializers.CharField(source="dataset.name")
    format = serializers.CharField()
    renumber = serializers.BooleanField()
    version = serializers.CharField()
    subjects = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(source="job.status")
    progress_done = serializers.IntegerField(source="job.progress_done")
    progress_total = serializers.IntegerField(source="job.progress_total")
    samples = serializers.IntegerField()
    size_bytes = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(source="job.finished_at", allow_null=True)
    download_url = serializers.SerializerMethodField()
    provenance_url = serializers.SerializerMethodField()
    rig_url = serializers.SerializerMethodField()

    def get_download_url(self, obj) -> str:
        return _download_url(obj)

    def get_provenance_url(self, obj) -> str:
        return _download_url(obj, file="provenance")

    def get_rig_url(self, obj) -> str | None:
        """The calibration beside a multi-view export of a dataset whose rig has a file (not the Human3.6M preset)."""
        if obj.format != "multiview" or camera_formats.FORMATS[obj.dataset.rig_format].preset is not None:
            return None
        return _download_url(obj, file="rig")


class ExportListCreateApi(APIView):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ExportCreateInput"

        dataset = DatasetNameField()
        format = serializers.ChoiceField(choices=FORMATS)
        version = TextField(column="annotator.Export.version", default="latest-accepted")
        subjects = TextListField(column="annotator.Subject.name", required=False, default=list)
        renumber = serializers.BooleanField(
            required=False, default=False, help_text="H3WB keys 0, 1, ... instead of the source sample ids"
        )

    @extend_schema(responses={200: ExportOutputSerializer(many=True)})
    def get(self, request):
        return Response(ExportOutputSerializer(export_list()[:100], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ExportOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        job, _, _ = tasks.job_submit(kind=EXPORT_JOB_KIND, dataset_name=v["dataset"], fmt=v["format"],
                                     version=v["version"], subjects=v["subjects"], created_by=request.user,
                                     renumber=v["renumber"])  # fmt: skip
        return Response(ExportOutputSerializer(export_get(export_id=job.export.pk)).data,
                        status=status.HTTP_201_CREATED)  # fmt: skip


class ExportDownloadApi(APIView):
    """The finished export file (``?file=provenance`` for its provenance side file); 404 while it is not ready."""

    permission_classes = [IsReviewer]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.BINARY})
    def get(self, request, export_id: int):
        which = request.query_params.get("file", EXPORT_FILES[0])
        path = export_file(export=export_get(export_id=export_id), which=which)
        # npz is a zip of .npy files; a multi-view export's rig may be Anipose TOML.
        kind = {".npz": "application/zip", ".toml": "application/toml", ".jsonl": "application/x-ndjson"}.get(
            path.suffix, "application/json"
        )
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type=kind)


class EvaluationCreateApi(APIView):
    """Evaluate an uploaded predictions file (H3WB submission format) against a dataset version: the table."""

    permission_classes = [IsReviewer]
    # The file's own limit plus room for the form's other fields and the multipart framing.
    parser_classes = [
        limited_multipart(lambda: evaluation.MAX_PREDICTIONS_BYTES + UPLOAD_FRAMING_BYTES, "the upload"),
        FormParser,
    ]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EvaluationCreateInput"

        predictions = serializers.FileField()
        dataset = DatasetNameField()
        version = TextField(column="annotator.Export.version", default="dataset")
        task = serializers.ChoiceField(choices=TASKS, required=False, allow_blank=True)
        cv = serializers.IntegerField(min_value=0, max_value=evaluation.CV_FOLDS, required=False, allow_null=True,
                                      help_text="cross-validation fold (default: cvK in the file name, as the "
                                                "official evaluator; 0 none)")  # fmt: skip

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        report = evaluate_upload(upload=v["predictions"], dataset_name=v["dataset"], version=v["version"],
                                 task=v.get("task") or None, fold=v.get("cv"))  # fmt: skip
        return Response(report)
