"""API routes, one path per endpoint."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import apis, export_apis, fbi_apis, ml_apis, study_apis, task_apis
from api.exception_handlers import page_not_found

app_name = "api"

urlpatterns = [
    path("", apis.ApiRootApi.as_view(), name="root"),
    path("layout/", apis.LayoutApi.as_view(), name="layout"),
    path("auth/token/", apis.TokenObtainApi.as_view(), name="token"),
    path("datasets/", apis.DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<name:name>/", apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("datasets/<name:name>/quality/", ml_apis.DatasetQualityApi.as_view(), name="dataset-quality"),
    path("tasks/", task_apis.TaskListApi.as_view(), name="task-list"),
    path("tasks/next/", task_apis.TaskNextApi.as_view(), name="task-next"),
    path("tasks/<id:task_id>/", task_apis.TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<id:task_id>/corrections/", task_apis.TaskCorrectionCreateApi.as_view(), name="task-corrections"),
    path("tasks/<id:task_id>/undo/", task_apis.TaskUndoApi.as_view(), name="task-undo"),
    path("tasks/<id:task_id>/redo/", task_apis.TaskRedoApi.as_view(), name="task-redo"),
    path("tasks/<id:task_id>/parts/", task_apis.TaskPartValidityApi.as_view(), name="task-parts"),
    path("tasks/<id:task_id>/submit/", task_apis.TaskSubmitApi.as_view(), name="task-submit"),
    path("tasks/<id:task_id>/accept/", task_apis.TaskAcceptApi.as_view(), name="task-accept"),
    path("tasks/<id:task_id>/reject/", task_apis.TaskRejectApi.as_view(), name="task-reject"),
    path("tasks/<id:task_id>/history/", task_apis.TaskHistoryApi.as_view(), name="task-history"),
    path("tasks/<id:task_id>/epipolar/", task_apis.TaskEpipolarApi.as_view(), name="task-epipolar"),
    path("tasks/<id:task_id>/refine/", ml_apis.TaskRefineApi.as_view(), name="task-refine"),
    path("tasks/<id:task_id>/fbi/", fbi_apis.FBITaskApi.as_view(), name="task-fbi"),
    path("tasks/<id:task_id>/fbi/answers/", fbi_apis.FBIAnswerCreateApi.as_view(), name="task-fbi-answers"),
    path("tasks/<id:task_id>/fbi/submit/", fbi_apis.FBISubmitApi.as_view(), name="task-fbi-submit"),
    path("fbi/agreement/", fbi_apis.FBIAgreementApi.as_view(), name="fbi-agreement"),
    path("fbi/depth-errors/tasks/", fbi_apis.FBIDepthErrorTasksApi.as_view(), name="fbi-depth-error-tasks"),
    path("jobs/", ml_apis.JobListApi.as_view(), name="job-list"),
    path("jobs/score/", ml_apis.JobScoreCreateApi.as_view(), name="job-score"),
    path("jobs/fbi/", fbi_apis.JobFBICreateApi.as_view(), name="job-fbi"),
    path("jobs/<id:job_id>/", ml_apis.JobDetailApi.as_view(), name="job-detail"),
    path("views/<id:view_id>/image/", task_apis.ViewImageApi.as_view(), name="view-image"),
    path("exports/", export_apis.ExportListCreateApi.as_view(), name="export-list"),
    path("exports/<id:export_id>/download/", export_apis.ExportDownloadApi.as_view(), name="export-download"),
    path("evaluations/", export_apis.EvaluationCreateApi.as_view(), name="evaluation-create"),
    path("studies/", study_apis.StudyListApi.as_view(), name="study-list"),
    path("studies/<id:study_id>/report/", study_apis.StudyReportApi.as_view(), name="study-report"),
    path("studies/<id:study_id>/frames/", study_apis.StudyFramesApi.as_view(), name="study-frames"),
    path("studies/<id:study_id>/sensitivity/", study_apis.StudySensitivityApi.as_view(), name="study-sensitivity"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Last: any other path under /api/ is the JSON 404 of the error format, with DEBUG on or off.
    # (CSRF-exempt: it changes nothing, and a token client's POST must get the JSON 404, not the CSRF page.)
    re_path(r"^.*$", csrf_exempt(page_not_found), name="not-found"),
]
