"""The domain's tables: datasets of calibrated multi-view frames and their 3D skeleton versions.

A Frame is one instant of one subject's sequence, seen by several cameras (one View per camera
image). Skeletons are whole arrays (``KeypointArrayField``) and append-only versions per frame:
the dataset's own skeleton, the ground truth where known, triangulations and corrections each add
a version, and nothing is overwritten. Fields and constraints only; writes live in
``annotator.services``, non-trivial reads in ``annotator.selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from annotator import camera_formats, geometry, keypoints, names
from annotator.fields import KeypointArrayField


class Dataset(models.Model):
    """A named collection of subjects, frames and skeletons, e.g. one H3WB release or the synthetic demo."""

    class SampleIds(models.TextChoices):
        """Which numbering the views' ``sample_id`` follow: the H3WB release has three that do not line up."""

        OWN = "", "the dataset's own (not an H3WB release file)"
        TRAIN = "train", "H3WB training set (RGBto3D_train / 2Dto3D_train / h3wb_train.npz)"
        LIFTING_TEST = "lifting-test", "H3WB 2D->3D and I2D->3D test sets (blocks of 4 ids)"
        RGB_TEST = "rgb-test", "H3WB RGB->3D test set"

    class Convention2D(models.TextChoices):
        """How the dataset's 2D keypoints relate to its 3D: with or without the lens distortion."""

        UNKNOWN = "", "unknown (no 2D imported)"
        PINHOLE = "pinhole", "pinhole K(RX+T)/z, no lens distortion (the H3WB release)"
        DISTORTED = "distorted", "with the cameras' lens distortion (pixels of the images)"

    name = models.SlugField(
        max_length=names.MAX_NAME_LENGTH, unique=True, help_text=f"{names.NAME_RULE} (used in URLs)"
    )
    description = models.TextField(blank=True)
    source_format = models.CharField(max_length=40, default="h3wb")
    #: Where the cameras came from (``camera_formats.FORMATS``): H3WB datasets have the shipped Human3.6M rig,
    #: calibrated per subject; an imported rig (Anipose, OpenCV) is shared by every subject of the dataset.
    rig_format = models.CharField(max_length=20, choices=camera_formats.choices, default="h36m")
    #: The keypoint layout every array of the dataset follows (``keypoints.LAYOUTS``); see ``layout``.
    layout_version = models.CharField(
        max_length=40,
        choices=[(version, layout.title) for version, layout in keypoints.LAYOUTS.items()],
        default=keypoints.LAYOUT_VERSION,
    )
    #: Directory the views' image paths are relative to; empty when the dataset has no images.
    image_root = models.CharField(max_length=500, blank=True)
    sample_ids = models.CharField(max_length=20, choices=SampleIds.choices, blank=True, default=SampleIds.OWN)
    #: Samples in the file the ids come from (the official cross-validation folds are fifths of it).
    source_samples = models.PositiveIntegerField(null=True, blank=True)
    keypoints_2d_convention = models.CharField(
        max_length=12, choices=Convention2D.choices, blank=True, default=Convention2D.UNKNOWN
    )
    #: Mean residual (px) of the imported 2D against each projection of the 3D: {"pinhole": x, "distorted": y}.
    keypoints_2d_residual_px = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [names.slug_constraint("dataset")]

    def __str__(self) -> str:
        return self.name

    @property
    def layout(self) -> keypoints.Layout:
        """The dataset's keypoint layout (``keypoints.LAYOUTS[layout_version]``)."""
        return keypoints.layout_get(self.layout_version)


class Subject(models.Model):
    """A person recorded in a dataset (Human3.6M: S1, S5, ...); extrinsics are per subject."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="subjects")
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["dataset", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="unique_subject_name")]

    def __str__(self) -> str:
        return f"{self.dataset.name}/{self.name}"


class Camera(models.Model):
    """A calibrated camera of one subject's recording; ``as_geometry()`` gives the math object.

    Cameras hang off subjects because Human3.6M calibrates each subject's session apart; a rig imported
    with a dataset (``Dataset.rig_format``) gives every subject the same cameras.
    """

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="cameras")
    name = models.CharField(max_length=40)
    K = models.JSONField(help_text="3x3 intrinsics, pixels")
    R = models.JSONField(help_text="3x3 world-to-camera rotation")
    t = models.JSONField(help_text="world-to-camera translation, mm")
    dist = models.JSONField(help_text="distortion k1 k2 p1 p2 k3")
    model = models.CharField(max_length=10, choices=[(m, m) for m in geometry.DISTORTION_MODELS], default="opencv")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["subject", "name"]
        constraints = [models.UniqueConstraint(fields=["subject", "name"], name="unique_camera_name")]

    def __str__(self) -> str:
        return f"{self.subject}/{self.name}"

    def as_geometry(self) -> geometry.Camera:
        return geometry.Camera(
            K=self.K,
            R=self.R,
            t=self.t,
            dist=self.dist,
            size=(self.width, self.height),
            model=self.model,
            name=self.name,
        )

    @classmethod
    def fields_from_geometry(cls, cam: geometry.Camera) -> dict:
        data = cam.to_dict()
        return {
            "K": data["K"],
            "R": data["R"],
            "t": data["t"],
            "dist": data["dist"],
            "model": data["model"],
            "width": cam.width,
            "height": cam.height,
        }


class Sequence(models.Model):
    """One recorded action of a subject (Human3.6M video basename, e.g. ``Directions 1``)."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="sequences")
    action = models.CharField(max_length=100)

    class Meta:
        ordering = ["subject", "action"]
        constraints = [models.UniqueConstraint(fields=["subject", "action"], name="unique_sequence_action")]

    def __str__(self) -> str:
        return f"{self.subject}/{self.action}"


class Frame(models.Model):
    """One instant of a sequence, seen by every camera of its subject."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="frames")
    index = models.PositiveIntegerField(help_text="video frame index")

    class Meta:
        ordering = ["sequence", "index"]
        constraints = [models.UniqueConstraint(fields=["sequence", "index"], name="unique_frame_index")]

    def __str__(self) -> str:
        return f"{self.sequence}/{self.index}"


class View(models.Model):
    """One camera's image of a frame, with the dataset's 2D keypoints for it as imported."""

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="views")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="views")
    image_path = models.CharField(max_length=500, blank=True, help_text="relative to the dataset's image root")
    #: Sample id in the imported file (H3WB ``"0"``, ``"1"``, ...), kept for provenance and re-export.
    sample_id = models.BigIntegerField(null=True, blank=True)
    bbox = models.JSONField(null=True, blank=True, help_text="[x_min, y_min, x_max, y_max] pixels")
    keypoints_2d = KeypointArrayField(dims=2, null=True, help_text="dataset 2D, pixels")
    #: Which keypoints of the ground truth the camera sees (1) or not (0: hidden behind a surface or off the
    #: image), as the ground-truth side file says (the synthetic rig: its depth buffer); null when unknown.
    #: Simulated annotators decide from it what a person could see in this view.
    truth_visible = KeypointArrayField(null=True, help_text="ground truth: 1 seen by the camera, 0 hidden")

    class Meta:
        ordering = ["frame", "camera__name"]
        constraints = [models.UniqueConstraint(fields=["frame", "camera"], name="unique_view_camera")]

    def __str__(self) -> str:
        return f"{self.frame}@{self.camera.name}"

    @property
    def image_url(self) -> str:
        """The API URL that serves this view's image to whoever may see it."""
        return reverse("api:view-image", kwargs={"view_id": self.pk})


class Detection2D(models.Model):
    """A 2D detector's output for one view: keypoints and confidences (0 = missed)."""

    view = models.ForeignKey(View, on_delete=models.CASCADE, related_name="detections")
    detector = models.CharField(max_length=100)
    keypoints_2d = KeypointArrayField(dims=2)
    scores = KeypointArrayField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["view", "detector"], name="unique_detection_detector")]

    def __str__(self) -> str:
        return f"{self.detector} on {self.view}"


class Skeleton3D(models.Model):
    """One version of a frame's 3D whole-body skeleton, world mm (NaN where a keypoint is unknown)."""

    class Source(models.TextChoices):
        DATASET = "dataset", "dataset"
        GROUND_TRUTH = "ground_truth", "ground truth"
        TRIANGULATED = "triangulated", "triangulated"
        CORRECTED = "corrected", "corrected"

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="skeletons")
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices)
    keypoints = KeypointArrayField(dims=3)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["frame", "version"]
        constraints = [models.UniqueConstraint(fields=["frame", "version"], name="unique_skeleton_version")]
        indexes = [models.Index(fields=["frame", "source", "version"], name="skeleton_frame_source")]

    def __str__(self) -> str:
        return f"{self.frame} v{self.version} ({self.source})"
