"""DRF endpoints: validate input, call one service or selector, answer through an output serializer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from annotator import selectors
from api.fields import TextField
from api.throttling import PasswordRateThrottle

#: Longest password the token endpoint reads (hashing a megabyte-long one would cost the server, not the caller).
MAX_PASSWORD_CHARS = 1024


class ApiRootApi(APIView):
    """Entry point: links to every collection of the API."""

    @extend_schema(responses={200: dict})
    def get(self, request, format=None):
        return Response(
            {
                "datasets": reverse("api:dataset-list", request=request, format=format),
                "tasks": reverse("api:task-list", request=request, format=format),
                "layout": reverse("api:layout", request=request, format=format),
                "token": reverse("api:token", request=request, format=format),
                "schema": reverse("api:schema", request=request, format=format),
                "docs": reverse("api:docs", request=request, format=format),
            }
        )


class LayoutApi(APIView):
    """A keypoint layout (names, parts, links, parents, flip index, colours): a dataset's, a preset, or the default.

    ``?dataset=NAME`` gives that dataset's layout, ``?layout=coco-17`` (version or bare name) a shipped
    preset; with neither, the default (COCO-WholeBody), as before layouts were per dataset.
    """

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LayoutFilter"

        dataset = serializers.CharField(required=False, max_length=200)
        layout = serializers.CharField(required=False, max_length=100)

        def validate(self, attrs):
            if "dataset" in attrs and "layout" in attrs:
                raise serializers.ValidationError("give dataset or layout, not both")
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses={200: dict})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(selectors.layout_for(**filters.validated_data))


class DatasetListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        description = serializers.CharField()
        source_format = serializers.CharField()
        layout_version = serializers.CharField()
        n_subjects = serializers.IntegerField()
        n_sequences = serializers.IntegerField()
        n_frames = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        url = serializers.SerializerMethodField()

        def get_url(self, obj) -> str:
            return reverse("api:dataset-detail", kwargs={"name": obj.name}, request=self.context.get("request"))

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        datasets = selectors.dataset_list()
        return Response(self.OutputSerializer(datasets, many=True, context={"request": request}).data)


class DatasetDetailApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, name: str):
        dataset = selectors.dataset_get(name=name)
        return Response(selectors.dataset_overview(dataset=dataset))


class TokenObtainApi(ObtainAuthToken):
    """``POST {"username", "password"}`` -> ``{"token"}`` for the ``Authorization: Token ...`` header.

    Throttled per client address with the sign-in pages (``api.throttling``: one budget of password
    attempts per address, the ``password`` rate of ``DEFAULT_THROTTLE_RATES``).
    """

    class InputSerializer(AuthTokenSerializer):
        class Meta:
            ref_name = "TokenObtainInput"

        username = TextField(column="auth.User.username", write_only=True)
        password = serializers.CharField(
            max_length=MAX_PASSWORD_CHARS, style={"input_type": "password"}, trim_whitespace=False, write_only=True
        )

    serializer_class = InputSerializer
    throttle_classes = [PasswordRateThrottle]
    # DRF's view names its own parsers; ours bound JSON bodies like every other endpoint.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
