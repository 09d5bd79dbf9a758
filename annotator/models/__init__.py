"""The domain's tables: datasets of calibrated multi-view frames (``datasets``) and the annotation
workflow on them (``annotation``). Everything is re-exported here: import from ``annotator.models``.
"""

from annotator.models.annotation import LOCK_TTL_S, Correction, PartValidity, Task, TaskLock
from annotator.models.datasets import Camera, Dataset, Detection2D, Frame, Sequence, Skeleton3D, Subject, View
from annotator.models.jobs import Job, JobChunk
from annotator.models.quality import QualityScore

__all__ = [
    "LOCK_TTL_S",
    "Camera",
    "Correction",
    "Dataset",
    "Detection2D",
    "Frame",
    "Job",
    "JobChunk",
    "PartValidity",
    "QualityScore",
    "Sequence",
    "Skeleton3D",
    "Subject",
    "Task",
    "TaskLock",
    "View",
]
