"""How far a cross-check study's figures can be trusted: its assumptions, their sensitivity, its design's bias, and
the annotators' calibration. Pure numpy on ``crosscheck.StudyData``; the report's ``instrument`` section.

* ``assumptions``: who did the corrections (people, or a recorded simulated annotator with its parameters),
  and where the simulated annotator's view of the world came from (visibility known for how many views).
* ``sensitivity_table``: measured/true per part over a grid of annotator thresholds x placement spreads,
  replayed in memory (``simulation.replay``, the correction service's re-fit rule) from the study's own
  tasks and ground truth: how much of the result is the instrument and how much the assumed annotator.
* ``design_bias``: image mode corrects one view, so the re-triangulation cannot see error along that
  camera's ray. Per part: measured/true where ground truth is known, and everywhere the share of corrected
  keypoints that were corrected in one view only (1.0 is blind along a ray; frame mode is the unbiased design).
* ``calibration``: each annotator's error on honeypots (against ground truth, or against gold: skeletons a
  reviewer accepted in earlier studies), their placement spread as a COCO sigma beside COCO-WholeBody's, and
  warnings where a spread is implausibly small (a copy of the reference, or an annotator model reading the
  truth) or large.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from annotator import geometry, keypoints, simulation

#: What a simulated study shows and what it cannot (the report and the README say it in these words).
LIMITS = (
    "A simulated study shows what this instrument (sampling, the editor's views, re-triangulation, the report) "
    "measures when annotators behave as the stated model assumes: it checks the tool end to end against known "
    "ground truth, shows how much image mode under-measures depth, and, through the sensitivity table, how much "
    "the figures move when the assumed annotator changes. It cannot say how real people would correct this data: "
    "their thresholds, their spread on these faces and hands and what they can see are assumptions (COCO-WholeBody's "
    "spread was measured on COCO photographs, not on this rig), and the synthetic rig's errors are modelled on H3WB's "
    "table, not drawn from it. A real study's figures need real annotators, calibrated on honeypots or gold frames."
)
#: An annotator's placement spread (their sigma over COCO-WholeBody's) outside this band gets a warning.
PLAUSIBLE_SPREAD = (1 / 3, 3.0)
#: Fewest drops of a part that a spread (and its warning) is computed from.
MIN_DROPS = 20


def _f(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _nanmean(values: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values) if np.size(values) else np.nan


def published_sigma(index: np.ndarray, layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT) -> float:
    """The layout's published sigma of a group of keypoints (COCO-WholeBody's by default), as a root mean square
    (comparable with a derived one)."""
    return float(np.sqrt(np.mean(layout.sigmas[index] ** 2)))


# --- assumptions ----------------------------------------------------------------------------------------------


def assumptions(data, simulations: list[dict]) -> dict:
    """Who corrected the study and under which model: ``simulated`` (bool), ``runs`` (the recorded simulations,
    oldest first), ``models`` (the annotator models, with their references) and visibility coverage."""
    R = len(data.row_task)
    known = int(np.isfinite(data.row_visible).all(axis=1).sum()) if data.row_visible is not None else 0
    return {
        "simulated": bool(simulations),
        "runs": simulations,
        "models": {
            "perceiving": {
                "placement": f"true projection + Gaussian noise, per axis noise_scale x sigma_k x s / sqrt(2); "
                f"s = sqrt({simulation.SEGMENT_AREA_PER_BOX} x person box area)",
                "sigma_reference": simulation.SIGMA_REFERENCE
                if data.layout is keypoints.DEFAULT_LAYOUT
                else f"the {data.layout.title} layout's per-keypoint OKS sigmas ({data.layout.version}); "
                "sigma_k^2 = E[d^2 / s^2], s^2 the person's segment area",
                "sees": "keypoints the camera sees (ground-truth visibility: the rig's depth buffer), inside the "
                "part's crop at its focus zoom and inside the image",
                "drags": "seen keypoints drawn more than threshold_px screen px from where it thinks they belong",
                "focus": {
                    "viewport_px": list(simulation.VIEWPORT_PX),
                    "margin": simulation.FOCUS_MARGIN,
                    "min_size_px": simulation.FOCUS_MIN_SIZE_PX,
                    "spacing_px": simulation.FOCUS_SPACING_PX,
                },
            },
            "pretrained": {
                "placement": "the pretrained whole-body model's prediction on the image (ml_services.pretrained)",
                "sees": "keypoints it predicts with a score of at least min_score, inside the crop and the image",
                "drags": "as the perceiving annotator",
            },
        },  # fmt: skip
        "views": R,
        "views_with_visibility": known,
    }


# --- sensitivity ----------------------------------------------------------------------------------------------


def replay_study(data, seed: int) -> simulation.ReplayStudy | None:
    """The study's tasks with ground truth as a ``simulation.ReplayStudy`` (noise drawn as the service draws it
    with ``seed``), or None when none has ground truth or the data lacks what a replay needs."""
    if data.frame_cameras is None or data.sim_keys is None or data.n_tasks == 0:
        return None
    known = np.flatnonzero(np.isfinite(data.truth).all(axis=(1, 2)))
    if not known.size:
        return None
    J = data.layout.num_keypoints
    new_index = {int(t): i for i, t in enumerate(known)}
    rows = np.flatnonzero(np.isin(data.row_task, known))
    rows = rows[np.argsort(data.row_task[rows], kind="stable")]
    counts = np.bincount(data.row_task[rows], minlength=data.n_tasks)
    noise = np.concatenate(
        [simulation.task_noise(seed, int(data.sim_keys[t]), int(counts[t]), J) for t in known]
    ) if rows.size else np.zeros((0, J, 2))  # fmt: skip
    visible = data.row_visible[rows] if data.row_visible is not None else np.full((rows.size, J), np.nan)
    return simulation.ReplayStudy(
        base=data.base[known],
        truth=data.truth[known],
        cameras=data.cameras,
        frame_cameras=[tuple(data.frame_cameras[t]) for t in known],
        row_task=np.asarray([new_index[int(t)] for t in data.row_task[rows]], dtype=np.intp),
        row_camera=data.row_camera[rows],
        row_visible=visible,
        row_scale=data.row_scale[rows],
        row_noise=noise,
        layout=data.layout,
    )


def sensitivity_table(
    data,
    *,
    seed: int = 0,
    at: dict | None = None,
    thresholds_px: tuple[float, ...] = simulation.SENSITIVITY_THRESHOLDS_PX,
    noise_scales: tuple[float, ...] = simulation.SENSITIVITY_NOISE_SCALES,
) -> dict | None:
    """``simulation.sensitivity`` of the study's tasks with ground truth (None without any), with ``seed`` (the
    study's own simulation seed, so that a cell at its parameters reproduces it) and, with ``at`` (the study's
    perceiving annotator: ``threshold_px``, ``noise_scale``), the replay at exactly those parameters."""
    replay = replay_study(data, seed)
    if replay is None:
        return None
    out = simulation.sensitivity(replay, thresholds_px, noise_scales)
    out.update(n_tasks=len(replay.base), seed=seed, annotator="perceiving")
    if at is not None:
        annotator = simulation.PerceivingAnnotator(threshold_px=at["threshold_px"], noise_scale=at["noise_scale"])
        result = simulation.replay(replay, annotator)
        parts = simulation.measured_over_true(replay.base, result, replay.truth, data.layout)
        out["at_study"] = {"threshold_px": at["threshold_px"], "noise_scale": at["noise_scale"],
                           "parts": {p: _f(v) for p, v in parts.items()}}  # fmt: skip
    return out


# --- design bias ----------------------------------------------------------------------------------------------


def design_bias(data, err, mode: str, ground_truth: dict | None) -> dict:
    """Per part: ``single_view_share`` (of the corrected task keypoints, the share dropped in one view only) and,
    with ground truth, ``measured_over_true``; plus the views per task and what the mode implies."""
    parts = {}
    for part, index in data.layout.metric_parts.items():
        row = {"single_view_share": None, "n_corrected": 0}
        if data.dropped_views is not None:
            dv = data.dropped_views[:, index]
            corrected = dv >= 1
            row["n_corrected"] = int(corrected.sum())
            row["single_view_share"] = _f((dv[corrected] == 1).mean()) if corrected.any() else None
        if ground_truth is not None:
            row["measured_over_true"] = ground_truth[part]["measured_over_true"]
        parts[part] = row
    views_per_task = np.bincount(data.row_task, minlength=data.n_tasks) if data.n_tasks else np.zeros(0)
    return {
        "mode": mode,
        "views_per_task": _f(views_per_task.mean()) if views_per_task.size else None,
        "parts": parts,
        "blind_along_ray": mode == "image",
        "note": (
            "Image mode corrects one view per task: a drag moves a keypoint across that camera's ray, never along "
            "it, so the part of the error along the ray stays unmeasured and measured/true falls below 1. Frame mode "
            "corrects every view of the instant and is the unbiased design."
            if mode == "image"
            else "Frame mode: every view of the instant is corrected, so no direction is hidden from the "
            "re-triangulation; single-view corrections (a keypoint dragged in one view only) are blind along that "
            "view's ray, as in image mode."
        ),
    }


# --- calibration ----------------------------------------------------------------------------------------------


def _spread_warning(name: str, part: str, ratio: float, reference: str = "COCO-WholeBody") -> str | None:
    low, high = PLAUSIBLE_SPREAD
    if ratio < low:
        return (f"{name}'s {part} placement spread is {ratio:.2f} x {reference}'s: implausibly small for a person "
                f"(copies of the reference, or an annotator model that reads the truth)")  # fmt: skip
    if ratio > high:
        return (f"{name}'s {part} placement spread is {ratio:.2f} x {reference}'s: implausibly large (careless "
                f"placement, or keypoints mistaken for others)")  # fmt: skip
    return None


def _drop_errors(data, tasks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drops on ``tasks`` (bool (T,)): (K,) task index, keypoint and (K,) d^2 / s^2 against the reference."""
    keep = tasks[data.row_task[data.drop_row]] if len(data.drop_row) else np.zeros(0, dtype=bool)
    rows, k, xy = data.drop_row[keep], data.drop_keypoint[keep], data.drop_xy[keep]
    ref2 = np.full((len(rows), 2), np.nan)
    for c in np.unique(data.row_camera[rows]) if len(rows) else []:
        sel = np.flatnonzero(data.row_camera[rows] == c)
        X = data.reference[data.row_task[rows[sel]], k[sel]]  # (n, 3)
        ref2[sel] = geometry.project(data.cameras[c], X)
    d2 = ((xy - ref2) ** 2).sum(axis=1)
    s2 = data.row_scale[rows] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return data.row_task[rows], k, np.where(s2 > 0, d2 / s2, np.nan)


def calibration(data, agreement: dict | None) -> dict | None:
    """Each annotator scored on honeypots against their reference (ground truth, else gold), or, without
    honeypots, on every task with ground truth. None when nothing can be scored."""
    has_ref = np.asarray([bool(k) for k in data.reference_kind]) if data.n_tasks else np.zeros(0, dtype=bool)
    scored = data.honeypot & has_ref
    basis = "honeypots"
    if not scored.any():
        scored = has_ref & np.isin(np.asarray(data.reference_kind, dtype=object), ["ground_truth"])
        basis = "all tasks with ground truth (no honeypots)"
    if not scored.any():
        return None
    err3 = np.linalg.norm(data.result - data.reference, axis=-1)  # (T, J)
    d_task, d_k, d_ratio = _drop_errors(data, scored)
    layout = data.layout
    part_of_k = {p: np.isin(d_k, ix) for p, ix in layout.metric_parts.items()}
    annotators, warns = [], []
    for a, name in enumerate(data.annotator_names):
        mine = scored & (data.annotator == a)
        if not mine.any():
            continue
        kinds = sorted({data.reference_kind[t] for t in np.flatnonzero(mine)})
        row = {"annotator": name, "n_tasks": int(mine.sum()), "references": kinds, "parts": {}}
        drop_mine = data.annotator[d_task] == a if len(d_task) else np.zeros(0, dtype=bool)
        for part, index in layout.metric_parts.items():
            sel = drop_mine & part_of_k[part]
            values = d_ratio[sel]
            values = values[np.isfinite(values)]
            sigma = math.sqrt(values.mean()) if values.size else None
            published = published_sigma(index, layout)
            ratio = sigma / published if sigma is not None else None
            row["parts"][part] = {
                "error_3d_mm": _f(_nanmean(err3[mine][:, index])),
                "n_drops": int(values.size),
                "sigma": _f(sigma),
                "published_sigma": _f(published),
                "sigma_ratio": _f(ratio),
            }
            if ratio is not None and values.size >= MIN_DROPS and part != "all":
                message = _spread_warning(name, part, ratio, layout.title)
                if message:
                    warns.append({"annotator": name, "part": part, "sigma_ratio": _f(ratio), "message": message})
        annotators.append(row)
    if agreement:
        for part, v in agreement["parts"].items():
            if part == "all" or v["derived_sigma"] is None or not v["published_sigma"]:
                continue
            ratio = v["derived_sigma"] / v["published_sigma"]
            message = _spread_warning("the annotators' (between them)", part, ratio, layout.title)
            if message:
                warns.append({"annotator": None, "part": part, "sigma_ratio": _f(ratio), "message": message})
    return {"basis": basis, "n_tasks": int(scored.sum()), "annotators": annotators, "warnings": warns,
            "plausible_ratio": list(PLAUSIBLE_SPREAD), "min_drops": MIN_DROPS}  # fmt: skip


def instrument_report(
    data, err, *, mode: str, ground_truth: dict | None, agreement: dict | None, simulations: list[dict],
    sensitivity: bool = True, sensitivity_seed: int = 0, sensitivity_at: dict | None = None,
) -> dict:  # fmt: skip
    """The report's ``instrument`` section (see the module docstring); ``sensitivity`` False leaves the table out."""
    table = sensitivity_table(data, seed=sensitivity_seed, at=sensitivity_at) if sensitivity else None
    return {
        "limits": LIMITS,
        "assumptions": assumptions(data, simulations),
        "sensitivity": table,
        "bias": design_bias(data, err, mode, ground_truth),
        "calibration": calibration(data, agreement),
    }
