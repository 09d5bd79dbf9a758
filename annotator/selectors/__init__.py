"""Every non-trivial read of the domain tables: datasets (``datasets``) and annotation tasks (``tasks``)."""

from annotator.selectors.datasets import dataset_get, dataset_list, dataset_overview
from annotator.selectors.tasks import (
    TaskState,
    correction_as_dict,
    image_content_type,
    task_editor_payload,
    task_epipolar_curves,
    task_frame_dict,
    task_get_for,
    task_history,
    task_is_fbi,
    task_list_for,
    task_lock_state,
    task_state,
    task_state_replay,
    task_undo_stacks,
    view_get_for_image,
    view_image_file,
)

__all__ = [
    "TaskState",
    "correction_as_dict",
    "dataset_get",
    "dataset_list",
    "dataset_overview",
    "image_content_type",
    "task_editor_payload",
    "task_epipolar_curves",
    "task_frame_dict",
    "task_get_for",
    "task_history",
    "task_is_fbi",
    "task_list_for",
    "task_lock_state",
    "task_state",
    "task_state_replay",
    "task_undo_stacks",
    "view_get_for_image",
    "view_image_file",
]
