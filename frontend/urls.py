"""Page routes."""

from django.urls import path

from frontend import views

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/<slug:name>/", views.dataset_detail, name="dataset"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/", views.task_editor, name="editor"),
]
