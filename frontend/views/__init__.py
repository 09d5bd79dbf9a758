"""Template views only: each page validates its input, asks a selector (or one service) and renders.

``pages`` holds the datasets and frames, ``tasks`` the annotator's list, editor and FBI labeller, ``review``
the reviewers' dashboard, queue, studies and task review, ``exports`` the export and evaluation page.
"""

from frontend.views.exports import exports
from frontend.views.pages import dataset_detail, favicon, frame_detail, home
from frontend.views.review import fbi_tasks_create, review_dashboard, review_queue, review_study, review_task
from frontend.views.tasks import fbi_labeller, task_editor, task_list

__all__ = [
    "dataset_detail",
    "exports",
    "favicon",
    "fbi_labeller",
    "fbi_tasks_create",
    "frame_detail",
    "home",
    "review_dashboard",
    "review_queue",
    "review_study",
    "review_task",
    "task_editor",
    "task_list",
]
