"""API routes, one path per endpoint."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import apis

app_name = "api"

urlpatterns = [
    path("", apis.ApiRootApi.as_view(), name="root"),
    path("layout/", apis.LayoutApi.as_view(), name="layout"),
    path("auth/token/", apis.TokenObtainApi.as_view(), name="token"),
    path("datasets/", apis.DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<slug:name>/", apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
