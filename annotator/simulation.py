"""Simulated annotators that perceive: what a person at the editor would see in a view, and where they would drop.

A cross-check study measures a dataset's error through the corrections people make, so a simulated study
is only as honest as its annotator model. This module is that model, stated in one place, as arrays in
and arrays out (no Django). Two annotators:

**Perceiving** (``PerceivingAnnotator``), a person modelled on published human spread:

* *What it looks at.* Each keypoint is checked in its part's focus, as the editor frames it
  (``frontend/static/frontend/js/geometry.js`` ``focusZoom``, ported by ``focus``): the part's displayed
  points boxed with a 15% margin and at least 120 image px, fitted into the enlarged view
  (``VIEWPORT_PX``), and zoomed further until the part's points lie ``FOCUS_SPACING_PX`` screen px apart.
  That gives a scale (screen px per image px) and the crop of the image on screen.
* *What it can see.* A keypoint counts as seen only where its true position lies inside that crop and
  inside the image, and the ground truth says the camera sees it (``View.truth_visible``: the synthetic
  rig's depth buffer; unknown visibility counts as seen, and the report says how many views lacked it).
  Hidden keypoints are left alone, or flagged occluded (``occluded="flag"``); never moved.
* *Where it thinks the keypoint is.* The true projection plus Gaussian noise with COCO's per-keypoint
  spread: COCO defines sigma_k by sigma_k^2 = E[d^2 / s^2], d the distance between an annotation and the
  truth, s^2 the person's segment area (Lin et al. 2014, the OKS definition; the per-keypoint sigmas are
  COCO-WholeBody's, Jin et al. 2020, in ``keypoints.SIGMAS``), so each axis gets a standard deviation of
  ``noise_scale * sigma_k * s / sqrt(2)``. s is sqrt(``SEGMENT_AREA_PER_BOX`` x the view's person box
  area), the estimate the COCO-WholeBody export uses. ``noise_scale`` 1 is the published human spread.
* *What it drags.* A seen keypoint whose drawn position is more than ``threshold_px`` *screen* px from
  where the annotator thinks it belongs (at the focus scale) is dropped there; others are left.

**Pretrained** (``ModelAnnotator``): an independent perception model. Where the pretrained whole-body
model (``ml_services.pretrained``) predicts a keypoint with a score of at least ``min_score``, that
prediction is where the keypoint belongs; the rest is unseen. Same focus and threshold rule. It needs no
ground truth, so it also runs on real data.

``replay`` runs the perceiving annotator over a whole study in memory (views in the order the service
works them, drops re-fitted by ``annotator.refit``, the correction service's own rule) so that the
sensitivity table can ask what the same study would have measured under other thresholds and spreads,
without writing anything. With the same noise draws it reproduces the service's results exactly.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np

from annotator import geometry, keypoints
from annotator.refit import refit

#: The enlarged view of the editor in a 1600 x 1000 window (screen px, width x height): where the
#: annotator looks at a part's focus.
VIEWPORT_PX: tuple[float, float] = (1180.0, 860.0)
#: geometry.js ``zoomToBox``: margin around a part's box (fraction of its size), smallest framed size (image px).
FOCUS_MARGIN = 0.15
FOCUS_MIN_SIZE_PX = 120.0
#: geometry.js ``FOCUS_SPACING_PX``: a focus zooms until the part's points lie this far apart (screen px, median).
FOCUS_SPACING_PX = 10.0
#: geometry.js ``MIN_ZOOM`` / ``MAX_ZOOM`` (zoom relative to the whole image fitted into the view).
MIN_ZOOM, MAX_ZOOM = 0.5, 40.0
#: A person's segment area per unit of box area (mmpose's estimate; the COCO-WholeBody export's
#: ``AREA_PER_BOX``, which a test keeps equal): s^2 of COCO's OKS.
SEGMENT_AREA_PER_BOX = 0.53
#: A displayed keypoint is visibly off when this far (screen px) from where it belongs: about one marker.
DEFAULT_THRESHOLD_SCREEN_PX = 3.0
#: Multiplier on COCO-WholeBody's per-keypoint sigmas: 1 = published human spread.
DEFAULT_NOISE_SCALE = 1.0
#: What a perceiving annotator does with a keypoint the camera does not see: leave it, or flag it occluded.
OCCLUDED_POLICIES: tuple[str, ...] = ("leave", "flag")
#: The pretrained annotator takes a prediction with at least this score as where the keypoint is.
DEFAULT_MIN_SCORE = 0.5
#: The sensitivity grid: thresholds (screen px) x noise scales (x COCO-WholeBody sigmas).
SENSITIVITY_THRESHOLDS_PX: tuple[float, ...] = (1.5, 3.0, 6.0, 12.0, 24.0)
SENSITIVITY_NOISE_SCALES: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0)


@cache
def focus_of(layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT) -> np.ndarray:
    """(J,) index into ``layout.focus_parts`` of the focus each keypoint is checked in (parts without a focus of
    their own, COCO-WholeBody's feet, go with the first, the body)."""
    out = np.asarray(
        [
            layout.focus_parts.index(p) if p in layout.focus_parts else 0
            for p in (layout.part_names[i] for i in layout.part_of)
        ],
        dtype=np.intp,
    )
    out.setflags(write=False)  # cached and shared: nobody may change it
    return out


#: The default layout's ``focus_of``.
FOCUS_OF: np.ndarray = focus_of()
#: The published reference of the placement spread, as the report cites it.
SIGMA_REFERENCE = (
    "COCO-WholeBody per-keypoint sigmas (Jin et al., ECCV 2020; body from COCO, Lin et al. 2014): "
    "sigma_k^2 = E[d^2 / s^2], s^2 the person's segment area"
)


def _check_nonnegative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number, zero or more, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class PerceivingAnnotator:
    """A person modelled on published human spread (see the module docstring).

    Attributes:
        threshold_px: screen px at the part's focus; a keypoint drawn further than this from where the
            annotator thinks it belongs is dragged.
        noise_scale: multiplier on COCO-WholeBody's sigmas (0: drops land on the truth exactly).
        occluded: ``"leave"`` hidden keypoints alone, or ``"flag"`` them occluded (never moved either way).
    """

    threshold_px: float = DEFAULT_THRESHOLD_SCREEN_PX
    noise_scale: float = DEFAULT_NOISE_SCALE
    occluded: str = "leave"

    kind = "perceiving"

    def __post_init__(self) -> None:
        _check_nonnegative("threshold_px", self.threshold_px)
        _check_nonnegative("noise_scale", self.noise_scale)
        if self.occluded not in OCCLUDED_POLICIES:
            raise ValueError(f"occluded must be one of {', '.join(OCCLUDED_POLICIES)}, got {self.occluded!r}")

    def params(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelAnnotator:
    """The pretrained whole-body model as an annotator: its prediction is where a keypoint belongs.

    Attributes:
        threshold_px: as for ``PerceivingAnnotator``.
        min_score: predictions scored below this are unseen (left alone).
    """

    threshold_px: float = DEFAULT_THRESHOLD_SCREEN_PX
    min_score: float = DEFAULT_MIN_SCORE

    kind = "pretrained"

    def __post_init__(self) -> None:
        _check_nonnegative("threshold_px", self.threshold_px)
        if not 0 <= _check_nonnegative("min_score", self.min_score) <= 1:
            raise ValueError(f"min_score must lie in [0, 1], got {self.min_score!r}")

    def params(self) -> dict:
        return asdict(self)


def object_scale(bbox) -> float:
    """COCO's object scale s of a view, px: sqrt of the person's estimated segment area (NaN without a box)."""
    if bbox is None or len(bbox) != 4:
        return math.nan
    w, h = float(bbox[2]) - float(bbox[0]), float(bbox[3]) - float(bbox[1])
    return math.sqrt(SEGMENT_AREA_PER_BOX * w * h) if w > 0 and h > 0 else math.nan


def view_scale(bbox, truth_2d: np.ndarray | None = None) -> float:
    """A view's object scale: from its person box, else from the box of the ground truth's projection (J, 2)."""
    s = object_scale(bbox)
    if math.isnan(s) and truth_2d is not None:
        finite = np.asarray(truth_2d, dtype=np.float64)
        finite = finite[np.isfinite(finite).all(axis=1)]
        if len(finite) >= 2:
            s = object_scale([*finite.min(axis=0), *finite.max(axis=0)])
    return s


def placement_sigma(
    scale: np.ndarray, noise_scale: float, layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT
) -> np.ndarray:
    """Per-axis standard deviation (px) of a perceiving annotator's placement: (n,) scales -> (n, J), J and the
    per-keypoint sigmas from ``layout``."""
    scale = np.asarray(scale, dtype=np.float64)
    return noise_scale * layout.sigmas[None, :] * scale[:, None] / math.sqrt(2.0)


def _median_spacing(points: np.ndarray) -> np.ndarray:
    """(n, m, 2) -> (n,) median distance from each finite point to its nearest finite neighbour; NaN below two."""
    m = points.shape[1]
    # float32: a zoom needs no more, and the (n, m, m) distances are the analysis' largest arrays.
    p = np.where(np.isfinite(points), points, np.inf).astype(np.float32)  # missing points lie infinitely far
    dx = p[:, :, None, 0] - p[:, None, :, 0]  # (n, m, m); inf - inf is NaN: two missing points
    dy = p[:, :, None, 1] - p[:, None, :, 1]
    with np.errstate(invalid="ignore"):
        d2 = dx * dx + dy * dy
    d2[:, np.arange(m), np.arange(m)] = np.inf
    d2[np.isnan(d2)] = np.inf
    nearest = np.sqrt(d2.min(axis=2))  # (n, m)
    nearest = np.where(np.isfinite(nearest) & np.isfinite(points).all(axis=-1), nearest, np.nan)
    out = np.full(len(points), np.nan)
    enough = np.isfinite(nearest).sum(axis=1) >= 2
    if enough.any():
        out[enough] = np.nanmedian(nearest[enough], axis=1)
    return out


def focus(
    displayed: np.ndarray,
    image_size: np.ndarray,
    viewport=VIEWPORT_PX,
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the editor's part focus puts each keypoint: screen scale and the image crop on screen.

    Ports geometry.js ``focusZoom`` (``zoomToBox`` then the spacing rule, clamped to ``MIN_ZOOM``..``MAX_ZOOM``).

    Args:
        displayed: (n, J, 2) where the keypoints are drawn, image px (NaN: not drawn); J = ``layout.num_keypoints``.
        image_size: (n, 2) width, height, px.
        layout: whose focus parts frame the keypoints.
    Returns:
        scale: (n, J) screen px per image px of the focus each keypoint is checked in (NaN when its part
            has no drawn point); crop: (n, J, 4) x0, y0, x1, y1 of the image region on screen there.
    """
    displayed = np.asarray(displayed, dtype=np.float64)
    size = np.asarray(image_size, dtype=np.float64)
    n, J = displayed.shape[:2]
    vw, vh = viewport
    fit = np.minimum(vw / size[:, 0], vh / size[:, 1])  # (n,)
    scale = np.full((n, J), np.nan)
    crop = np.full((n, J, 4), np.nan)
    if J != layout.num_keypoints:
        raise ValueError(f"displayed must have {layout.num_keypoints} keypoints ({layout.title}), got {J}")
    of = focus_of(layout)
    for f, _ in enumerate(layout.focus_parts):
        members = np.flatnonzero(of == f)
        pts = displayed[:, members]  # (n, m, 2)
        finite = np.isfinite(pts).all(axis=-1)
        has = finite.any(axis=1)
        if not has.any():
            continue
        big = np.where(finite[..., None], pts, np.nan)
        with np.errstate(invalid="ignore"):
            lo = np.nanmin(np.where(has[:, None, None], big, 0.0), axis=1)  # (n, 2)
            hi = np.nanmax(np.where(has[:, None, None], big, 0.0), axis=1)
        w = np.maximum((hi[:, 0] - lo[:, 0]) * (1 + 2 * FOCUS_MARGIN), FOCUS_MIN_SIZE_PX)
        h = np.maximum((hi[:, 1] - lo[:, 1]) * (1 + 2 * FOCUS_MARGIN), FOCUS_MIN_SIZE_PX)
        s = np.minimum(vw / w, vh / h)
        k = s / fit
        spacing = _median_spacing(big)
        with np.errstate(invalid="ignore", divide="ignore"):
            k = np.where(np.isfinite(spacing) & (spacing > 0), np.maximum(k, FOCUS_SPACING_PX / (spacing * fit)), k)
        k = np.clip(k, MIN_ZOOM, MAX_ZOOM)
        s = np.where(has, k * fit, np.nan)  # (n,)
        cx, cy = (lo[:, 0] + hi[:, 0]) / 2, (lo[:, 1] + hi[:, 1]) / 2
        half_w, half_h = vw / (2 * s), vh / (2 * s)
        box = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)  # (n, 4)
        scale[:, members] = s[:, None]
        crop[:, members] = box[:, None]
    return scale, crop


@dataclass
class Decisions:
    """What an annotator does in n views: ``move`` (n, J) bool with ``drops`` (n, J, 2) px where moved (NaN
    elsewhere), ``occluded`` (n, J) bool hidden keypoints it flags, ``unseen`` (n, J) bool keypoints it could
    not see (hidden, outside the crop or the image, or not predicted), ``hidden`` (n, J) bool of those, the
    ones the camera does not see."""

    move: np.ndarray
    drops: np.ndarray
    occluded: np.ndarray
    unseen: np.ndarray
    hidden: np.ndarray


def _inside(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(n, J, 2) points inside (n, J, 4) boxes -> (n, J) bool (False for NaN)."""
    with np.errstate(invalid="ignore"):
        return (
            (points[..., 0] >= box[..., 0]) & (points[..., 0] <= box[..., 2])
            & (points[..., 1] >= box[..., 1]) & (points[..., 1] <= box[..., 3])
        )  # fmt: skip


def _decide(
    displayed, target, anchor, seen, image_size, threshold_px, viewport, layout
) -> tuple[np.ndarray, np.ndarray]:
    """Common rule: keypoints seen (``anchor``, where the landmark is on the image, lies inside the part's crop)
    whose drawn position is over the threshold (screen px) from ``target``, where the annotator puts them."""
    scale, crop = focus(displayed, image_size, viewport, layout)
    seen = seen & _inside(anchor, crop) & np.isfinite(displayed).all(axis=-1)
    with np.errstate(invalid="ignore"):
        off = np.linalg.norm(displayed - target, axis=-1) * scale  # (n, J) screen px
        move = seen & (off > threshold_px)
    return move, seen


def _in_image(points: np.ndarray, image_size: np.ndarray) -> np.ndarray:
    size = np.asarray(image_size, dtype=np.float64)[:, None, :]
    with np.errstate(invalid="ignore"):
        return (points >= -0.5).all(axis=-1) & (points <= size - 0.5).all(axis=-1)


def perceiving_decisions(
    annotator: PerceivingAnnotator,
    displayed: np.ndarray,
    truth: np.ndarray,
    visible: np.ndarray,
    scale: np.ndarray,
    image_size: np.ndarray,
    noise: np.ndarray,
    viewport=VIEWPORT_PX,
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT,
) -> Decisions:
    """A perceiving annotator's decisions in n views (J = ``layout.num_keypoints``; its sigmas and focus parts).

    Args:
        displayed: (n, J, 2) where the editor draws the keypoints (the current skeleton's projection), px.
        truth: (n, J, 2) the ground truth's projection, px (NaN: unknown).
        visible: (n, J) 1 seen by the camera, 0 hidden, NaN unknown (counts as seen).
        scale: (n,) COCO object scale s, px (``object_scale``).
        image_size: (n, 2) px.
        noise: (n, J, 2) standard normal draws (the caller's random stream, so replays can reuse them).
    """
    displayed, truth = np.asarray(displayed, np.float64), np.asarray(truth, np.float64)
    n, J = displayed.shape[:2]
    for name, arr, shape in (("truth", truth, (n, J, 2)), ("visible", np.asarray(visible), (n, J)),
                             ("noise", np.asarray(noise), (n, J, 2)), ("scale", np.asarray(scale), (n,))):  # fmt: skip
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    visible = np.asarray(visible, dtype=np.float64)
    hidden = visible == 0
    sigma = placement_sigma(scale, annotator.noise_scale, layout)  # (n, J)
    sigma = np.where(np.isfinite(sigma), sigma, 0.0) if annotator.noise_scale == 0 else sigma
    perceived = truth + sigma[..., None] * np.asarray(noise, dtype=np.float64)
    seen = ~hidden & np.isfinite(perceived).all(axis=-1) & _in_image(truth, image_size)
    move, seen = _decide(displayed, perceived, truth, seen, image_size, annotator.threshold_px, viewport, layout)
    drops = np.where(move[..., None], perceived, np.nan)
    occluded = hidden if annotator.occluded == "flag" else np.zeros_like(hidden)
    return Decisions(move=move, drops=drops, occluded=occluded, unseen=~seen, hidden=hidden)


def model_decisions(
    annotator: ModelAnnotator,
    displayed: np.ndarray,
    predicted: np.ndarray,
    scores: np.ndarray,
    image_size: np.ndarray,
    viewport=VIEWPORT_PX,
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT,
) -> Decisions:
    """The pretrained annotator's decisions in n views: ``predicted`` (n, J, 2) px and ``scores`` (n, J)."""
    displayed, predicted = np.asarray(displayed, np.float64), np.asarray(predicted, np.float64)
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0)
    if predicted.shape != displayed.shape or scores.shape != displayed.shape[:2]:
        raise ValueError(
            f"predicted {predicted.shape} and scores {scores.shape} must match displayed {displayed.shape}"
        )
    seen = (scores >= annotator.min_score) & np.isfinite(predicted).all(axis=-1) & _in_image(predicted, image_size)
    move, seen = _decide(displayed, predicted, predicted, seen, image_size, annotator.threshold_px, viewport, layout)
    none = np.zeros(displayed.shape[:2], dtype=bool)
    return Decisions(move=move, drops=np.where(move[..., None], predicted, np.nan), occluded=none, unseen=~seen,
                     hidden=none)  # fmt: skip


def simulation_key(frame_label: str, username: str) -> int:
    """A task's key for its random stream, from what it is (frame, annotator), not its database id, so that
    simulated clicks are the same on every database the study is run on (and in ``replay``)."""
    return zlib.crc32(f"{frame_label}/{username}".encode())


def task_noise(seed: int, key: int, n_views: int, num_keypoints: int = keypoints.NUM_KEYPOINTS) -> np.ndarray:
    """The standard normal draws of one task: (n_views, J, 2), one (J, 2) block per view in working order
    (J = ``num_keypoints``, the layout's)."""
    rng = np.random.default_rng([seed, key])
    return np.stack([rng.standard_normal((num_keypoints, 2)) for _ in range(n_views)]) if n_views else \
        np.zeros((0, num_keypoints, 2))  # fmt: skip


# --- replaying a study in memory ------------------------------------------------------------------------


@dataclass
class ReplayStudy:
    """A study's tasks as the perceiving annotator sees them (T tasks, R task views, C cameras).

    Attributes:
        base, truth: (T, J, 3) world mm.
        cameras: C ``geometry.Camera``.
        frame_cameras: per task, the camera indices of every view of its frame (the re-fit's views).
        row_task, row_camera: (R,) the task views, grouped by task in working order (camera name).
        row_visible: (R, J) 1 / 0 / NaN; row_scale: (R,) object scale px.
        row_noise: (R, J, 2) standard normal draws (``task_noise`` per task).
    """

    base: np.ndarray
    truth: np.ndarray
    cameras: list
    frame_cameras: list[tuple[int, ...]]
    row_task: np.ndarray
    row_camera: np.ndarray
    row_visible: np.ndarray
    row_scale: np.ndarray
    row_noise: np.ndarray
    #: The keypoint layout of the skeletons (J, sigmas, focus parts, metric parts).
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT

    def __post_init__(self) -> None:
        T, J = len(self.base), self.layout.num_keypoints
        R = len(self.row_task)
        for name, shape in (("base", (T, J, 3)), ("truth", (T, J, 3)), ("row_camera", (R,)), ("row_visible", (R, J)),
                            ("row_scale", (R,)), ("row_noise", (R, J, 2))):  # fmt: skip
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {getattr(self, name).shape}")
        if len(self.frame_cameras) != T:
            raise ValueError(f"frame_cameras needs one entry per task ({T}), got {len(self.frame_cameras)}")
        if R and np.any(np.diff(self.row_task) < 0):
            raise ValueError("rows must be grouped by task (row_task non-decreasing)")

    @property
    def row_step(self) -> np.ndarray:
        """(R,) position of each row among its task's views (0 = worked first)."""
        if not len(self.row_task):
            return np.zeros(0, dtype=np.intp)
        first = np.searchsorted(self.row_task, self.row_task, side="left")
        return np.arange(len(self.row_task)) - first


def _project(cameras: list, row_camera: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(r, J, 3) skeletons into each row's camera -> (r, J, 2), one call per camera."""
    out = np.full(X.shape[:2] + (2,), np.nan)
    for c in np.unique(row_camera):
        sel = np.flatnonzero(row_camera == c)
        out[sel] = geometry.project(cameras[c], X[sel])
    return out


def replay(study: ReplayStudy, annotator: PerceivingAnnotator, viewport=VIEWPORT_PX) -> np.ndarray:
    """The result skeletons (T, J, 3) the perceiving annotator would leave: views worked in order, each seeing
    the skeleton re-fitted from the drops so far (``refit``), exactly as the correction service does."""
    T, J = study.base.shape[:2]
    current = study.base.copy()
    slots = [dict(zip(cams, range(len(cams)), strict=True)) for cams in study.frame_cameras]
    width = max((len(c) for c in study.frame_cameras), default=0)
    drops = np.full((T, width, J, 2), np.nan)
    step = study.row_step
    size = np.asarray([study.cameras[c].size for c in range(len(study.cameras))], dtype=np.float64).reshape(-1, 2)
    groups: dict[tuple[int, ...], list[int]] = {}
    for t, cams in enumerate(study.frame_cameras):
        groups.setdefault(tuple(cams), []).append(t)
    for s in range(int(step.max()) + 1 if len(step) else 0):
        rows = np.flatnonzero(step == s)
        tasks = study.row_task[rows]
        cams = study.row_camera[rows]
        decisions = perceiving_decisions(
            annotator,
            _project(study.cameras, cams, current[tasks]),
            _project(study.cameras, cams, study.truth[tasks]),
            study.row_visible[rows],
            study.row_scale[rows],
            size[cams],
            study.row_noise[rows],
            viewport,
            study.layout,
        )
        changed = np.zeros((T, J), dtype=bool)
        for i, (t, c) in enumerate(zip(tasks.tolist(), cams.tolist(), strict=True)):
            moved = decisions.move[i]
            drops[t, slots[t][c], moved] = decisions.drops[i, moved]
            changed[t] |= moved
        # Only keypoints dropped in this step move: a keypoint's fit depends on its own drops alone.
        for cam_tuple, members in groups.items():
            members = np.asarray(members)
            ti, ki = np.nonzero(changed[members])
            if not ti.size:
                continue
            t_idx = members[ti]
            V = len(cam_tuple)
            d = drops[t_idx, :V, ki].transpose(1, 0, 2)  # (V, P, 2)
            current[t_idx, ki] = refit([study.cameras[c] for c in cam_tuple], study.base[t_idx, ki], d)
    return current


def measured_over_true(
    base: np.ndarray, result: np.ndarray, truth: np.ndarray, layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT
) -> dict[str, float | None]:
    """Per ``layout.metric_parts`` group: mean |result - base| over mean |base - truth| of (T, J, 3) skeletons
    (3D, mm; finite keypoints only)."""
    measured = np.linalg.norm(result - base, axis=-1)  # (T, J)
    true = np.linalg.norm(base - truth, axis=-1)
    out = {}
    for part, index in layout.metric_parts.items():
        m, t = measured[:, index], true[:, index]
        ok = np.isfinite(m) & np.isfinite(t)
        out[part] = float(m[ok].mean() / t[ok].mean()) if ok.any() and t[ok].mean() > 0 else None
    return out


def sensitivity(
    study: ReplayStudy,
    thresholds_px: tuple[float, ...] = SENSITIVITY_THRESHOLDS_PX,
    noise_scales: tuple[float, ...] = SENSITIVITY_NOISE_SCALES,
    occluded: str = "leave",
    viewport=VIEWPORT_PX,
) -> dict:
    """Measured/true per part over a grid of thresholds (rows) x noise scales (columns), by ``replay``.

    The same noise draws serve every cell (common random numbers), so differences between cells come from
    the parameters, not from luck. Returns ``thresholds_px``, ``noise_scales``, ``parts`` (part -> rows x
    columns of measured/true) and ``fraction_moved`` (rows x columns: share of task keypoints that moved).
    """
    if not thresholds_px or not noise_scales:
        raise ValueError("the sensitivity grid needs at least one threshold and one noise scale")
    parts = {p: [[None] * len(noise_scales) for _ in thresholds_px] for p in study.layout.metric_parts}
    moved = [[None] * len(noise_scales) for _ in thresholds_px]
    for i, threshold in enumerate(thresholds_px):
        for j, noise_scale in enumerate(noise_scales):
            annotator = PerceivingAnnotator(threshold_px=threshold, noise_scale=noise_scale, occluded=occluded)
            result = replay(study, annotator, viewport)
            for part, value in measured_over_true(study.base, result, study.truth, study.layout).items():
                parts[part][i][j] = None if value is None else round(value, 4)
            changed = np.linalg.norm(result - study.base, axis=-1) > 0
            moved[i][j] = round(float(changed.mean()), 4) if changed.size else None
    return {"thresholds_px": list(thresholds_px), "noise_scales": list(noise_scales), "parts": parts,
            "fraction_moved": moved}  # fmt: skip
