"""Pure numpy math of a cross-check study: how far annotators moved a dataset's skeletons, per part and more.

A study's finished tasks give, per task t, the skeleton it started from (``base``, the dataset's) and
the one it ended with (``result``, re-triangulated from the corrections). H3WB's cross-check reads
the difference as the dataset's error: 3D error = |result - base| per keypoint (mm); 2D error = the
distance between the two skeletons' projections in each view the task covers (px). Everything here
is arrays in, plain JSON-ready dicts out; per-part statistics come from ``annotator.metrics``
(``part_summary``), part membership from the dataset's layout (``StudyData.layout``: its
``metric_parts`` group every table, its sigmas are the published ones). No Django.

Shapes: T tasks, J = ``layout.num_keypoints``, R task views ("rows": one per task and view), C cameras.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from annotator import geometry, instrument, keypoints, metrics
from annotator.keypoints import Layout

#: H3WB's published cross-check (600 images, about 80K keypoints): part -> (mean 2D px, mean 3D mm).
H3WB_CROSS_CHECK: dict[str, tuple[float, float]] = {
    "all": (4.57, 16.98),
    "body": (4.68, 18.63),
    "face": (4.42, 15.08),
    "hand": (4.74, 19.16),
}
#: 3D error histogram: bin width and range (mm); larger errors go to an overflow count.
HIST_BIN_MM = 2.5
HIST_MAX_MM = 80.0
#: The band H3WB says its 3D errors concentrate in (mm); the report gives the fraction inside it.
TYPICAL_BAND_MM = (10.0, 20.0)
#: A keypoint whose result is farther than this from its base (mm) counts as corrected. The service puts
#: an uncorrected keypoint back on the base point exactly, so any positive tolerance separates the two.
CORRECTED_TOL_MM = 1e-6
#: The default layout's metric parts (a study's own are ``data.layout.metric_parts``).
PART_NAMES = keypoints.METRIC_PART_NAMES
#: Why a study of another layout is not set beside H3WB's published cross-check.
PUBLISHED_NOT_COMPARABLE = "H3WB's published cross-check is of COCO-WholeBody; {title} data is not comparable with it"


@dataclass
class StudyData:
    """Everything a report needs, as arrays (see the module docstring for T, J, R, C).

    Attributes:
        base, result: (T, J, 3) world mm; NaN where unknown.
        truth: (T, J, 3) ground truth world mm, NaN rows for tasks whose frame has none.
        item: (T,) item index; tasks with the same item corrected the same frame (and view).
        annotator: (T,) annotator index into ``annotator_names``.
        honeypot: (T,) bool.
        row_task, row_camera: (R,) task index and camera index of every task view.
        row_scale: (R,) object scale s of the view, px (``simulation.object_scale``: sqrt of the person's
            segment area, estimated from the box); NaN if unknown.
        cameras: C ``geometry.Camera`` (one per calibrated camera: Human3.6M calibrates per subject);
            ``camera_names`` their labels, shared by the same camera of different subjects.
        task_ids, frame_labels, statuses: (T,) plain values for the frames table.
    """

    base: np.ndarray
    result: np.ndarray
    truth: np.ndarray
    item: np.ndarray
    annotator: np.ndarray
    honeypot: np.ndarray
    row_task: np.ndarray
    row_camera: np.ndarray
    row_scale: np.ndarray
    cameras: list
    camera_names: list[str]
    annotator_names: list[str]
    task_ids: list[int] = field(default_factory=list)
    frame_ids: list[int] = field(default_factory=list)
    frame_labels: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    #: (R, J) ground-truth visibility of each task view: 1 seen, 0 hidden, NaN unknown (None: all unknown).
    row_visible: np.ndarray | None = None
    #: Per task, the indices into ``cameras`` of every view of its frame (None: the task's own views only).
    frame_cameras: list[tuple[int, ...]] | None = None
    #: (T,) each task's key for its simulated random stream (``simulation.simulation_key``).
    sim_keys: np.ndarray | None = None
    #: (T, J, 3) what honeypots are scored against: ground truth, else a gold skeleton; ``reference_kind`` (T,)
    #: says which ("ground_truth", "gold" or "" where there is none). None: the ground truth.
    reference: np.ndarray | None = None
    reference_kind: list[str] | None = None
    #: (T, J) in how many of the task's views the keypoint has a standing drop (None: unknown).
    dropped_views: np.ndarray | None = None
    #: The standing manual drops: (K,) row index and keypoint, (K, 2) px.
    drop_row: np.ndarray | None = None
    drop_keypoint: np.ndarray | None = None
    drop_xy: np.ndarray | None = None
    #: The dataset's keypoint layout: J, the parts of every table and the published sigmas.
    layout: Layout = keypoints.DEFAULT_LAYOUT

    def __post_init__(self) -> None:
        J = self.layout.num_keypoints
        T = len(self.base)
        for name in ("base", "result", "truth"):
            arr = getattr(self, name)
            if arr.shape != (T, J, 3):
                raise ValueError(f"{name} must have shape ({T}, {J}, 3), got {arr.shape}")
        for name in ("item", "annotator", "honeypot"):
            if getattr(self, name).shape != (T,):
                raise ValueError(f"{name} must have shape ({T},), got {getattr(self, name).shape}")
        R = len(self.row_task)
        for name in ("row_camera", "row_scale"):
            if getattr(self, name).shape != (R,):
                raise ValueError(f"{name} must have shape ({R},), got {getattr(self, name).shape}")
        if len(self.cameras) != len(self.camera_names):
            raise ValueError("cameras and camera_names differ in length")
        optional = {"row_visible": (R, J), "sim_keys": (T,), "reference": (T, J, 3), "dropped_views": (T, J)}
        for name, shape in optional.items():
            arr = getattr(self, name)
            if arr is not None and arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if self.reference is None:
            self.reference = self.truth
            known = np.isfinite(self.truth).all(axis=(1, 2))
            self.reference_kind = ["ground_truth" if k else "" for k in known.tolist()]
        if self.drop_row is None:
            self.drop_row = np.zeros(0, dtype=np.intp)
            self.drop_keypoint = np.zeros(0, dtype=np.intp)
            self.drop_xy = np.zeros((0, 2))

    @property
    def n_tasks(self) -> int:
        return len(self.base)

    @property
    def labels(self) -> list[str]:
        """The distinct camera labels, sorted."""
        return sorted(set(self.camera_names))

    @property
    def row_label(self) -> np.ndarray:
        """(R,) index into ``labels`` of every row's camera."""
        labels = self.labels
        of_camera = np.asarray([labels.index(n) for n in self.camera_names], dtype=np.intp)
        return of_camera[self.row_camera] if len(self.row_camera) else np.zeros(0, dtype=np.intp)


@dataclass
class Errors:
    """Per-keypoint errors of a study: ``e3`` (T, J) mm, ``e2`` (R, J) px, ``corrected`` (T, J) bool,
    ``true3`` (T, J) mm and ``true2`` (R, J) px of the base against ground truth (NaN where unknown),
    ``residual3`` (T, J) mm of the result against ground truth."""

    e3: np.ndarray
    e2: np.ndarray
    corrected: np.ndarray
    true3: np.ndarray
    true2: np.ndarray
    residual3: np.ndarray


def project_rows(cameras: list, row_camera: np.ndarray, row_task: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Project each row's task skeleton into the row's camera: X (T, J, 3) -> (R, J, 2) px, one call per camera."""
    out = np.full((len(row_task), X.shape[1], 2), np.nan)
    for c, cam in enumerate(cameras):
        rows = np.flatnonzero(row_camera == c)
        if rows.size:
            out[rows] = geometry.project(cam, X[row_task[rows]])  # (r, J, 2)
    return out


def compute_errors(data: StudyData) -> Errors:
    """All per-keypoint errors of the study, vectorised (one projection call per camera and skeleton set)."""
    e3 = metrics.keypoint_errors_3d(data.result, data.base)  # (T, J)
    base2 = project_rows(data.cameras, data.row_camera, data.row_task, data.base)  # (R, J, 2)
    result2 = project_rows(data.cameras, data.row_camera, data.row_task, data.result)
    truth2 = project_rows(data.cameras, data.row_camera, data.row_task, data.truth)
    return Errors(
        e3=e3,
        e2=metrics.keypoint_errors_2d(result2, base2),
        corrected=np.nan_to_num(e3, nan=0.0) > CORRECTED_TOL_MM,
        true3=metrics.keypoint_errors_3d(data.base, data.truth),
        true2=metrics.keypoint_errors_2d(base2, truth2),
        residual3=metrics.keypoint_errors_3d(data.result, data.truth),
    )


def _f(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _nanmean(values: np.ndarray, axis=None):
    # An all-NaN slice (a part nobody could see) is a None in the report, not a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _list(values: np.ndarray) -> list[float | None]:
    return [_f(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def part_table(
    e3: np.ndarray, e2: np.ndarray, corrected: np.ndarray | None = None, layout: Layout = keypoints.DEFAULT_LAYOUT
) -> dict[str, dict]:
    """The H3WB table: per ``layout.metric_parts`` group mean 2D px and mean/median/p90 3D mm with counts
    (``metrics.part_summary``); e3 (T, J) mm, e2 (R, J) px, corrected (T, J) bool."""
    s3 = metrics.part_summary(e3, layout)
    s2 = metrics.part_summary(e2, layout)
    p = f"p{metrics.SUMMARY_PERCENTILE}"
    table = {}
    for part, index in layout.metric_parts.items():
        row = {
            "mean_2d_px": _f(s2[part]["mean"]),
            "median_2d_px": _f(s2[part]["median"]),
            "p90_2d_px": _f(s2[part][p]),
            "n_2d": s2[part]["count"],
            "mean_3d_mm": _f(s3[part]["mean"]),
            "median_3d_mm": _f(s3[part]["median"]),
            "p90_3d_mm": _f(s3[part][p]),
            "n_keypoints": s3[part]["count"],
        }
        if corrected is not None:
            row["fraction_corrected"] = _f(corrected[:, index].mean()) if corrected.size else None
        values = e3[:, index]
        values = values[np.isfinite(values)]
        lo, hi = TYPICAL_BAND_MM
        row["fraction_in_band"] = _f(((values >= lo) & (values < hi)).mean()) if values.size else None
        table[part] = row
    return table


def histograms(e3: np.ndarray, layout: Layout = keypoints.DEFAULT_LAYOUT) -> dict:
    """3D error histograms of e3 (T, J) mm per ``layout.metric_parts`` group: shared bin edges (mm), counts, and
    the overflow past the last edge."""
    edges = np.arange(0.0, HIST_MAX_MM + HIST_BIN_MM / 2, HIST_BIN_MM)
    counts, overflow = {}, {}
    for part, index in layout.metric_parts.items():
        values = e3[:, index]
        values = values[np.isfinite(values)]
        counts[part] = np.histogram(values, bins=edges)[0].tolist()
        overflow[part] = int((values >= edges[-1]).sum())
    return {"bin_edges_mm": edges.tolist(), "counts": counts, "overflow": overflow, "band_mm": list(TYPICAL_BAND_MM)}


def _group_means(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite ``values`` (N, ...) -> (n_groups, ...) over each group, and the counts (n_groups, ...)."""
    finite = np.isfinite(values)
    sums = np.zeros((n_groups,) + values.shape[1:])
    counts = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(sums, groups, np.where(finite, values, 0.0))
    np.add.at(counts, groups, finite)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, counts


def per_camera(data: StudyData, err: Errors) -> list[dict]:
    """Per camera label: mean 2D error (px) of its rows, and the mean 3D error (mm) of the tasks that cover it."""
    labels, row_label = data.labels, data.row_label
    C = len(labels)
    row_mean2 = _nanmean(err.e2, axis=1)  # (R,)
    row_mean3 = _nanmean(err.e3, axis=1)[data.row_task]  # (R,)
    m2, n = _group_means(row_mean2, row_label, C)
    m3, _ = _group_means(row_mean3, row_label, C)
    out = []
    for c, name in enumerate(labels):
        sel = row_label == c
        e2c = err.e2[sel]
        out.append(
            {
                "camera": name,
                "n_views": int(sel.sum()),
                "mean_2d_px": _f(m2[c]) if n[c] else None,
                "mean_3d_mm": _f(m3[c]) if n[c] else None,
                "parts_2d_px": {p: _f(_nanmean(e2c[:, ix])) if e2c.size else None
                                for p, ix in data.layout.metric_parts.items()},
            }
        )  # fmt: skip
    return out


def per_annotator(data: StudyData, err: Errors) -> list[dict]:
    """Per annotator: tasks, mean 3D and 2D error, fraction corrected; on honeypots, their result's true error."""
    out = []
    row_annotator = data.annotator[data.row_task]
    for a, name in enumerate(data.annotator_names):
        sel = data.annotator == a
        if not sel.any():
            continue
        hp = sel & data.honeypot
        residual = err.residual3[hp]
        out.append(
            {
                "annotator": name,
                "n_tasks": int(sel.sum()),
                "mean_3d_mm": _f(_nanmean(err.e3[sel])),
                "mean_2d_px": _f(_nanmean(err.e2[row_annotator == a])),
                "fraction_corrected": _f(err.corrected[sel].mean()),
                "n_honeypots": int(hp.sum()),
                "honeypot_residual_3d_mm": _f(_nanmean(residual)) if residual.size else None,
                "honeypot_true_3d_mm": _f(_nanmean(err.true3[hp])) if hp.any() else None,
            }
        )
    return out


def agreement(data: StudyData) -> dict | None:
    """Inter-annotator spread on items corrected by more than one annotator, and COCO-style derived sigmas.

    For every (item, camera) with n >= 2 annotators, each annotator's keypoint is the projection of
    their result skeleton; d is its distance from the annotators' mean and s the object scale (sqrt
    of the person's box area, px). Following COCO (sigma_k^2 = E[d^2 / s^2]), with the unbiased
    n / (n - 1) correction: ``derived_sigmas[k] = sqrt(sum d^2 / s^2 / sum (n - 1))``. The 3D spread
    is the same root mean square over the annotators' 3D results, mm. None when no item has two.
    """
    n_items = int(data.item.max()) + 1 if data.n_tasks else 0
    per_item = np.bincount(data.item, minlength=n_items)
    shared = per_item >= 2
    if not shared.any():
        return None
    layout = data.layout
    J = layout.num_keypoints
    # 3D: deviations of each task's result from its item's mean.
    tasks = np.flatnonzero(shared[data.item])
    mean3, count3 = _group_means(data.result[tasks], data.item[tasks], n_items)  # (I, J, 3)
    dev3 = ((data.result[tasks] - mean3[data.item[tasks]]) ** 2).sum(-1)  # (t, J)
    dof3 = np.nansum(np.where(np.isfinite(dev3), 1.0, 0.0), axis=0) - np.count_nonzero(shared)  # sum (n - 1)
    spread3 = np.sqrt(np.nansum(dev3, axis=0) / np.maximum(dof3, 1))
    # 2D: rows grouped by (item, camera).
    rows = np.flatnonzero(shared[data.item[data.row_task]])
    C = max(len(data.cameras), 1)
    group = data.item[data.row_task[rows]] * C + data.row_camera[rows]
    uniq, gidx, gcount = np.unique(group, return_inverse=True, return_counts=True)
    keep = gcount[gidx] >= 2
    rows, gidx = rows[keep], gidx[keep]
    if rows.size == 0:
        spread2 = np.full(J, np.nan)
        sigmas = np.full(J, np.nan)
        n_groups = 0
    else:
        xy = project_rows(data.cameras, data.row_camera[rows], data.row_task[rows], data.result)  # (r, J, 2)
        mean2, _ = _group_means(xy, gidx, len(uniq))
        d2 = ((xy - mean2[gidx]) ** 2).sum(-1)  # (r, J)
        s2 = data.row_scale[rows] ** 2  # (r,)
        n_groups = int(np.unique(gidx).size)
        dof = np.nansum(np.isfinite(d2), axis=0) - n_groups
        spread2 = np.sqrt(np.nansum(d2, axis=0) / np.maximum(dof, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = np.where(np.isfinite(s2)[:, None] & (s2[:, None] > 0), d2 / s2[:, None], np.nan)
        dof_s = np.nansum(np.isfinite(scaled), axis=0) - n_groups
        sigmas = np.sqrt(np.nansum(scaled, axis=0) / np.maximum(dof_s, 1))
    parts = {
        p: {"spread_2d_px": _f(_nanmean(spread2[ix])), "spread_3d_mm": _f(_nanmean(spread3[ix])),
            "derived_sigma": _f(_nanmean(sigmas[ix])), "published_sigma": _f(layout.sigmas[ix].mean())}
        for p, ix in layout.metric_parts.items()
    }  # fmt: skip
    return {
        "n_items": int(shared.sum()),
        "n_view_groups": n_groups,
        "scale": "COCO's s: sqrt of the person's segment area, estimated as 0.53 x the box area in the view",
        "parts": parts,
        "spread_2d_px": _list(spread2),
        "spread_3d_mm": _list(spread3),
        "derived_sigmas": _list(sigmas),
        "published_sigmas": _list(layout.sigmas),
    }


def ground_truth_table(err: Errors, data: StudyData) -> dict | None:
    """Where ground truth is known: the dataset skeleton's true error beside the measured one, per part.

    Over the tasks whose frame has ground truth: ``mean_3d_mm`` (and median, p90, counts) of |base - truth|,
    ``mean_2d_px`` in the tasks' views, ``measured_3d_mm`` of |result - base| over the same tasks,
    ``measured_over_true`` their ratio, and ``residual_3d_mm`` = |result - truth| (what correction left).
    """
    known = np.isfinite(data.truth).all(axis=(1, 2))  # (T,)
    if not known.any():
        return None
    rows = known[data.row_task]
    true = part_table(err.true3[known], err.true2[rows], layout=data.layout)
    measured = metrics.part_summary(err.e3[known], data.layout)
    residual = metrics.part_summary(err.residual3[known], data.layout)
    out = {}
    for part in data.layout.metric_parts:
        t, m = true[part], measured[part]["mean"]
        out[part] = {
            "mean_3d_mm": t["mean_3d_mm"],
            "median_3d_mm": t["median_3d_mm"],
            "p90_3d_mm": t["p90_3d_mm"],
            "n_keypoints": t["n_keypoints"],
            "mean_2d_px": t["mean_2d_px"],
            "measured_3d_mm": _f(m),
            "measured_over_true": _f(m / t["mean_3d_mm"]) if m is not None and t["mean_3d_mm"] else None,
            "residual_3d_mm": _f(residual[part]["mean"]),
        }
    out["n_tasks"] = int(known.sum())
    return out


def study_report(
    data: StudyData,
    *,
    mode: str = "frame",
    simulations: list[dict] | None = None,
    sensitivity: bool = True,
    sensitivity_seed: int = 0,
    sensitivity_at: dict | None = None,
) -> dict:
    """The whole cross-check report of a study's finished tasks, JSON-ready.

    Keys: ``layout`` (what the charts need of the data's layout: ``Layout.metric_json``), ``n_tasks``,
    ``n_items``, ``n_views``, ``mode``; ``parts`` (the H3WB table over the layout's metric parts, see
    ``part_table``); ``published`` (H3WB's numbers; empty for
    another layout, with ``published_note`` saying why); ``histograms``; ``keypoints`` (per-keypoint means);
    ``cameras``; ``annotators``; ``fraction_corrected``; ``agreement`` (or None); ``ground_truth`` (or None); and
    ``instrument`` (``annotator.instrument``: what the study shows and cannot, the assumptions it ran under
    (``simulations``: the recorded simulated-annotator runs), the sensitivity table (replayed with
    ``sensitivity_seed``, and at ``sensitivity_at``; None with ``sensitivity=False``, as it replays the study 25
    times), the design's bias per part and the annotators' calibration).
    """
    err = compute_errors(data)
    layout = data.layout
    parts = part_table(err.e3, err.e2, err.corrected, layout)
    ground_truth = ground_truth_table(err, data)
    agreement_ = agreement(data)
    comparable = layout is keypoints.DEFAULT_LAYOUT
    return {
        "layout": layout.metric_json(),
        "mode": mode,
        "n_tasks": data.n_tasks,
        "n_items": int(np.unique(data.item).size),
        "n_views": int(len(data.row_task)),
        "parts": parts,
        "published": {p: {"mean_2d_px": v[0], "mean_3d_mm": v[1]} for p, v in H3WB_CROSS_CHECK.items()}
        if comparable
        else {},
        "published_note": None if comparable else PUBLISHED_NOT_COMPARABLE.format(title=layout.title),
        "histograms": histograms(err.e3, layout),
        "keypoints": {
            "names": list(layout.names),
            "part_of": [layout.part_names[i] for i in layout.part_of],
            "mean_3d_mm": _list(_nanmean(err.e3, axis=0)) if data.n_tasks else [],
            "mean_2d_px": _list(_nanmean(err.e2, axis=0)) if len(err.e2) else [],
            "fraction_corrected": _list(err.corrected.mean(axis=0)) if data.n_tasks else [],
        },
        "cameras": per_camera(data, err),
        "annotators": per_annotator(data, err),
        "fraction_corrected": _f(err.corrected.mean()) if data.n_tasks else None,
        "agreement": agreement_,
        "ground_truth": ground_truth,
        "instrument": instrument.instrument_report(
            data,
            err,
            mode=mode,
            ground_truth=ground_truth,
            agreement=agreement_,
            simulations=simulations or [],
            sensitivity=sensitivity,
            sensitivity_seed=sensitivity_seed,
            sensitivity_at=sensitivity_at,
        ),
    }


# --- the frames table -------------------------------------------------------------------------------

SORTS = ("worst", "best", "task")


def frame_rows(
    data: StudyData,
    err: Errors,
    *,
    sort: str = "worst",
    part: str = "all",
    camera: str | None = None,
    annotator: str | None = None,
    keypoint: int | None = None,
) -> list[dict]:
    """One row per task: its mean errors (3D mm per part, 2D px in its views or in ``camera``), filtered and sorted.

    ``sort``: ``worst`` (largest error first), ``best`` or ``task`` (id); the error sorted on is the mean
    3D error of ``part``, or of ``keypoint`` when given.
    """
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
    parts = data.layout.metric_parts
    if part not in parts:
        raise ValueError(f"part must be one of {tuple(parts)} ({data.layout.title}), got {part!r}")
    if keypoint is not None and not 0 <= keypoint < data.layout.num_keypoints:
        raise ValueError(f"keypoint must be 0..{data.layout.num_keypoints - 1} ({data.layout.title}), got {keypoint}")
    T = data.n_tasks
    keep = np.ones(T, dtype=bool)
    row_sel = np.ones(len(data.row_task), dtype=bool)
    if camera is not None:
        if camera not in data.labels:
            return []
        row_sel = data.row_label == data.labels.index(camera)
        keep &= np.bincount(data.row_task[row_sel], minlength=T) > 0
    if annotator is not None:
        if annotator not in data.annotator_names:
            return []
        keep &= data.annotator == data.annotator_names.index(annotator)
    index = parts[part]
    part3 = {p: _nanmean(err.e3[:, ix], axis=1) for p, ix in parts.items()}  # (T,) each
    key = err.e3[:, keypoint] if keypoint is not None else part3[part]
    row2 = _nanmean(err.e2[:, index], axis=1)  # (R,)
    mean2, _ = _group_means(np.where(row_sel, row2, np.nan), data.row_task, T)
    true3 = _nanmean(err.true3[:, index], axis=1)
    n_corr = err.corrected.sum(axis=1)
    cams_of = [[] for _ in range(T)]
    for t, c in zip(data.row_task.tolist(), data.row_camera.tolist()):
        cams_of[t].append(data.camera_names[c])
    order = np.flatnonzero(keep)
    if sort == "task":
        order = order[np.argsort(np.asarray(data.task_ids)[order], kind="stable")]
    else:
        k = np.nan_to_num(key[order], nan=-np.inf)
        order = order[np.argsort(-k if sort == "worst" else k, kind="stable")]
    out = []
    for t in order.tolist():
        out.append(
            {
                "task": data.task_ids[t],
                "frame": data.frame_ids[t],
                "label": data.frame_labels[t],
                "cameras": sorted(cams_of[t]),
                "annotator": data.annotator_names[data.annotator[t]],
                "status": data.statuses[t],
                "honeypot": bool(data.honeypot[t]),
                "error_3d_mm": {p: _f(part3[p][t]) for p in parts},
                "sort_error": _f(key[t]),
                "mean_2d_px": _f(mean2[t]),
                "true_3d_mm": _f(true3[t]),
                "n_corrected": int(n_corr[t]),
            }
        )
    return out
