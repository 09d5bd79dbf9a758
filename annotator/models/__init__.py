"""The domain's tables: datasets of calibrated multi-view frames (``datasets``) and the annotation
workflow on them (``annotation``). Everything is re-exported here: import from ``annotator.models``.
"""

from annotator.models.annotation import LOCK_TTL_S, Correction, PartValidity, Task, TaskLock
from annotator.models.datasets import Camera, Dataset, Detection2D, Frame, Sequence, Skeleton3D, Subject, View
from annotator.models.exports import Export
from annotator.models.fbi import FBIAnswer, FBIAutoLabels
from annotator.models.jobs import Job, JobChunk
from annotator.models.quality import QualityScore
from annotator.models.studies import Study, StudyItem, StudySimulation

__all__ = [
    "LOCK_TTL_S",
    "Camera",
    "Correction",
    "Dataset",
    "Detection2D",
    "Export",
    "FBIAnswer",
    "FBIAutoLabels",
    "Frame",
    "Job",
    "JobChunk",
    "PartValidity",
    "QualityScore",
    "Sequence",
    "Skeleton3D",
    "Study",
    "StudyItem",
    "StudySimulation",
    "Subject",
    "Task",
    "TaskLock",
    "View",
]
