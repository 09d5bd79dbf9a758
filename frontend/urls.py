"""Page routes."""

from django.urls import path

from frontend import views

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("datasets/<slug:name>/", views.dataset_detail, name="dataset"),
    path("frames/<int:frame_id>/", views.frame_detail, name="frame"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/", views.task_editor, name="editor"),
    path("fbi/<int:task_id>/", views.fbi_labeller, name="fbi"),
    path("exports/", views.exports, name="exports"),
    path("review/", views.review_dashboard, name="review"),
    path("review/queue/", views.review_queue, name="review-queue"),
    path("review/fbi-tasks/", views.fbi_tasks_create, name="fbi-tasks"),
    path("review/studies/<int:study_id>/", views.review_study, name="review-study"),
    path("review/tasks/<int:task_id>/", views.review_task, name="review-task"),
]
