"""Pure numpy keypoint errors: per-keypoint distances, per-part summaries and the H3WB benchmark table.

Review scores, cross-checks between annotators and the benchmark export all compare poses through
these functions, so the numbers in the tool match the published protocol
(docs/reference/h3wb_format.md section 5) exactly. Missing keypoints are NaN and are left out of
every mean rather than failing it, because partially annotated poses are the norm in review.

Every function that groups or aligns keypoints takes the data's ``layout`` (a ``keypoints.Layout``,
default COCO-WholeBody as H3WB uses it): parts are ``layout.metric_parts``, alignment roots
``layout.anchors``. A number that needs something the layout lacks (the face on its nose tip, a hand on
its root in a body-only layout) is None, and ``not_applicable`` says why; it is never made up.
"""

from __future__ import annotations

import numpy as np

from annotator import keypoints
from annotator.keypoints import Layout

DEFAULT_LAYOUT = keypoints.DEFAULT_LAYOUT
#: The H3WB table's part columns: every layout's table has them, None (with a reason) where the layout lacks one.
H3WB_PARTS: tuple[str, ...] = ("all", "body", "face", "hand")

#: Percentile reported by ``part_summary`` next to the mean and median.
SUMMARY_PERCENTILE = 90
#: Largest coordinate magnitude compared: float64 still resolves 1e-6 between two such numbers. Beyond it,
#: ``pred - gt`` loses ``gt`` and a root alignment can turn any nonsense into a perfect 0.0.
MAX_COMPARABLE_ABS = 1e9


def _pair(
    pred: np.ndarray, gt: np.ndarray, dims: tuple[int, ...], full_layout: bool, layout: Layout = DEFAULT_LAYOUT
) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")
    if pred.ndim < 2 or pred.shape[-1] not in dims:
        want = " or ".join(f"(..., J, {d})" for d in dims)
        raise ValueError(f"poses must have shape {want}, got {pred.shape}")
    if full_layout and pred.shape[-2] != layout.num_keypoints:
        raise ValueError(f"poses must have {layout.num_keypoints} keypoints ({layout.title}), got {pred.shape[-2]}")
    if np.isinf(pred).any() or np.isinf(gt).any():
        raise ValueError("poses must be finite or NaN (NaN marks a missing keypoint)")
    for name, arr in (("pred", pred), ("gt", gt)):
        if arr.size and float(np.nanmax(np.abs(arr), initial=0.0)) > MAX_COMPARABLE_ABS:
            raise ValueError(
                f"{name} has coordinates of magnitude {float(np.nanmax(np.abs(arr))):.3g}, beyond "
                f"{MAX_COMPARABLE_ABS:.0e}: their differences cannot be represented, so no error is computed"
            )
    return pred, gt


def keypoint_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance per keypoint, in the unit of the input (px for 2D, mm for 3D).

    Args:
        pred, gt: (..., J, 2) pixels or (..., J, 3) mm; NaN marks a missing keypoint.
    Returns:
        (..., J) errors, NaN where either side is missing.
    """
    pred, gt = _pair(pred, gt, (2, 3), full_layout=False)
    return np.linalg.norm(pred - gt, axis=-1)


def keypoint_errors_2d(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``keypoint_errors`` for (..., J, 2) pixel keypoints -> (..., J) px."""
    pred, gt = _pair(pred, gt, (2,), full_layout=False)
    return np.linalg.norm(pred - gt, axis=-1)


def keypoint_errors_3d(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``keypoint_errors`` for (..., J, 3) world or camera keypoints -> (..., J) mm."""
    pred, gt = _pair(pred, gt, (3,), full_layout=False)
    return np.linalg.norm(pred - gt, axis=-1)


def _nanmean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def part_summary(errors: np.ndarray, layout: Layout = DEFAULT_LAYOUT) -> dict[str, dict[str, float | int | None]]:
    """Mean, median, 90th percentile and count of finite errors per ``layout.metric_parts`` group.

    Args:
        errors: (..., K) per-keypoint errors with K = ``layout.num_keypoints``; NaN is skipped.
        layout: the keypoint layout of the errors (default COCO-WholeBody).
    Returns:
        ``{part: {"mean", "median", "p90", "count"}}`` as plain floats and ints, JSON-ready; the
        statistics are None for a part with no finite error.
    """
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim < 1 or errors.shape[-1] != layout.num_keypoints:
        raise ValueError(f"errors must have shape (..., {layout.num_keypoints}) ({layout.title}), got {errors.shape}")
    summary: dict[str, dict[str, float | int | None]] = {}
    for part, index in layout.metric_parts.items():
        values = errors[..., index]
        values = values[np.isfinite(values)]
        empty = values.size == 0
        summary[part] = {
            "mean": None if empty else float(values.mean()),
            "median": None if empty else float(np.median(values)),
            f"p{SUMMARY_PERCENTILE}": None if empty else float(np.percentile(values, SUMMARY_PERCENTILE)),
            "count": int(values.size),
        }
    return summary


def _centred_errors(pred: np.ndarray, gt: np.ndarray, root: np.ndarray | int, joints: np.ndarray) -> np.ndarray:
    """(N, J, 3) poses -> (N, len(joints)) errors after centring both on ``root`` (an index, or indices averaged)."""
    D = pred - gt  # translation alignment of each pose on its own root is the same as subtracting D[root]
    D_root = D[:, root].mean(axis=1) if np.ndim(root) else D[:, root]
    return np.linalg.norm(D[:, joints] - D_root[:, None], axis=-1)


def _hands(layout: Layout) -> tuple[tuple[int, np.ndarray], tuple[int, np.ndarray]] | None:
    """(root, part indices) of the left and right hand, or None when the layout has no rooted hands."""
    a = layout.anchors
    if a.left_hand_root is None or a.right_hand_root is None:
        return None
    if "left_hand" not in layout.parts or "right_hand" not in layout.parts:
        return None
    return (a.left_hand_root, layout.parts["left_hand"]), (a.right_hand_root, layout.parts["right_hand"])


def not_applicable(layout: Layout = DEFAULT_LAYOUT) -> dict[str, str]:
    """Why each number of ``benchmark_table`` that ``layout`` cannot give is None: ``{key: reason}``.

    Empty for COCO-WholeBody, where every number applies. The keys are those of ``h3wb_mpjpe`` and, prefixed
    ``pafuse_``, of ``pafuse_part_mpjpe``.
    """
    title, parts, a = layout.title, layout.metric_parts, layout.anchors
    reasons: dict[str, str] = {}
    for part in H3WB_PARTS:
        if part not in parts:
            reasons[part] = f"{title} has no {part} keypoints"
    if "face" not in parts:
        reasons["face_nose_aligned"] = f"{title} has no face keypoints"
        reasons["pafuse_face"] = f"{title} has no face keypoints"
    else:
        if a.nose is None:
            reasons["face_nose_aligned"] = f"{title} has no nose to centre the face on"
        if a.face_nose_tip is None:
            reasons["pafuse_face"] = f"{title} has no face nose tip to centre the face on (PAFUSE)"
    if _hands(layout) is None:
        why = f"{title} has no hand keypoints with a hand root to centre them on"
        for key in ("hand_root_aligned", "pafuse_left_hand", "pafuse_right_hand", "pafuse_hand"):
            reasons[key] = why
    if "body" not in parts:
        reasons["pafuse_body"] = f"{title} has no body keypoints"
    return reasons


def h3wb_mpjpe(pred: np.ndarray, gt: np.ndarray, layout: Layout = DEFAULT_LAYOUT) -> dict[str, float | None]:
    """The official H3WB MPJPE variants (``test_leaderboard.py``), in mm, in any layout's terms.

    Args:
        pred, gt: (N, K, 3) mm with K = ``layout.num_keypoints``.
        layout: the keypoint layout (default COCO-WholeBody, where this is exactly the official evaluator).
    Returns:
        one pelvis-aligned mean per ``layout.metric_parts`` group (pelvis = mean of ``layout.anchors.pelvis``;
        COCO-WholeBody: all / body+feet / face / both hands), and every ``H3WB_PARTS`` column the layout lacks;
        ``face_nose_aligned``: face re-centred on the body nose ``anchors.nose``;
        ``hand_root_aligned``: each hand re-centred on its root (``anchors.left_hand_root`` /
        ``right_hand_root``, root error 0 included), the mean of left and right.
        NaN keypoints are skipped; a value is None when nothing is left to average, or when the layout lacks
        what it needs (``not_applicable(layout)`` says why).
    """
    pred, gt = _pair(pred, gt, (3,), full_layout=True, layout=layout)
    if pred.ndim != 3:
        raise ValueError(f"poses must have shape (N, {layout.num_keypoints}, 3), got {pred.shape}")
    pelvis = np.asarray(layout.anchors.pelvis)
    result: dict[str, float | None] = {part: None for part in H3WB_PARTS}
    result.update(
        {part: _nanmean(_centred_errors(pred, gt, pelvis, index)) for part, index in layout.metric_parts.items()}
    )
    result["face_nose_aligned"] = None
    if "face" in layout.metric_parts and layout.anchors.nose is not None:
        result["face_nose_aligned"] = _nanmean(
            _centred_errors(pred, gt, layout.anchors.nose, layout.metric_parts["face"])
        )
    hands = _hands(layout)
    result["hand_root_aligned"] = None
    if hands is not None:
        result["hand_root_aligned"] = _mean_of_hands(
            *(_nanmean(_centred_errors(pred, gt, root, index)) for root, index in hands)
        )
    return result


def _mean_of_hands(left: float | None, right: float | None) -> float | None:
    sides = [v for v in (left, right) if v is not None]
    return float(np.mean(sides)) if sides else None


def pafuse_part_mpjpe(pred: np.ndarray, gt: np.ndarray, layout: Layout = DEFAULT_LAYOUT) -> dict[str, float | None]:
    """PAFUSE's part-frame errors, in mm: every part centred on its own root (valeoai/PAFUSE ``common/utils.py``
    ``center_pose_parts`` and ``common/loss.py`` part errors, on ``common/h3wb_dataset.py``'s 134 joints).

    PAFUSE adds a pelvis joint (mean of the layout's pelvis anchors, COCO: the two hips) as joint 0 and counts
    it in the body: body is the pelvis + ``metric_parts["body"]`` (COCO-WholeBody: 24 joints, the pelvis' own
    error 0 after centring). A layout whose pelvis is one of its keypoints (Human3.6M's root) already counts
    it, so no joint is added there. The face is centred on its nose tip ``anchors.face_nose_tip``, each hand
    on its root; ``hand`` is the mean of the two hands and ``all`` the mean over all part-centred joints.

    Args:
        pred, gt: (N, K, 3) mm with K = ``layout.num_keypoints``.
        layout: the keypoint layout (default COCO-WholeBody).
    Returns:
        ``body``, ``face``, ``left_hand``, ``right_hand``, ``hand``, ``all``; None where nothing is finite, or
        where the layout lacks the part or its root (``not_applicable(layout)`` says why).
    """
    pred, gt = _pair(pred, gt, (3,), full_layout=True, layout=layout)
    if pred.ndim != 3:
        raise ValueError(f"poses must have shape (N, {layout.num_keypoints}, 3), got {pred.shape}")
    pelvis = np.asarray(layout.anchors.pelvis)
    parts: dict[str, np.ndarray] = {}
    if "body" in layout.metric_parts:
        body = _centred_errors(pred, gt, pelvis, layout.metric_parts["body"])
        if len(pelvis) > 1:  # a derived pelvis: PAFUSE's added joint 0
            D = pred - gt
            root = D[:, pelvis].mean(axis=1)  # (N, 3) the added pelvis joint's displacement
            pelvis_error = np.linalg.norm(root - root, axis=-1)[:, None]  # (N, 1): 0, or NaN where a hip is missing
            body = np.concatenate([pelvis_error, body], 1)
        parts["body"] = body
    if "face" in layout.metric_parts and layout.anchors.face_nose_tip is not None:
        parts["face"] = _centred_errors(pred, gt, layout.anchors.face_nose_tip, layout.metric_parts["face"])
    hands = _hands(layout)
    if hands is not None:
        for name, (root, index) in zip(("left_hand", "right_hand"), hands, strict=True):
            parts[name] = _centred_errors(pred, gt, root, index)
    result: dict[str, float | None] = {name: None for name in ("body", "face", "left_hand", "right_hand")}
    result.update({name: _nanmean(errors) for name, errors in parts.items()})
    result["hand"] = _mean_of_hands(result["left_hand"], result["right_hand"]) if hands is not None else None
    result["all"] = _nanmean(np.concatenate(list(parts.values()), axis=1)) if parts else None
    return result


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Align every predicted pose to its ground truth by rotation, translation and scale (Umeyama 1991).

    Args:
        pred, gt: (N, J, 3); keypoints NaN on either side are left out of the fit.
    Returns:
        (N, J, 3) aligned predictions (NaN where pred is NaN, or for a pose with fewer than three
        keypoints finite on both sides, which does not fix a rotation).
    """
    pred, gt = _pair(pred, gt, (3,), full_layout=False)
    if pred.ndim != 3:
        raise ValueError(f"poses must have shape (N, J, 3), got {pred.shape}")
    w = (np.isfinite(pred).all(-1) & np.isfinite(gt).all(-1)).astype(np.float64)  # (N, J)
    count = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = np.where(w[..., None] > 0, pred, 0.0)
        G = np.where(w[..., None] > 0, gt, 0.0)
        mu_p = P.sum(axis=1) / count[:, None]  # (N, 3)
        mu_g = G.sum(axis=1) / count[:, None]
        P0 = (P - mu_p[:, None]) * w[..., None]
        G0 = (G - mu_g[:, None]) * w[..., None]
        H = np.einsum("nji,njk->nik", P0, G0)  # (N, 3, 3) cross-covariance
        U, S, Vt = np.linalg.svd(np.nan_to_num(H))
        # Reflections are not allowed: flip the weakest axis when det(V U^T) < 0.
        sign = np.sign(np.linalg.det(np.einsum("nij,njk->nik", U, Vt)))
        sign[sign == 0] = 1.0
        S[:, 2] *= sign
        U[:, :, 2] *= sign[:, None]
        R = np.einsum("nij,njk->nik", U, Vt)  # pred @ R maps onto gt
        scale = S.sum(axis=1) / (P0**2).sum(axis=(1, 2))
        aligned = scale[:, None, None] * np.einsum("nji,nik->njk", pred - mu_p[:, None], R) + mu_g[:, None]
    aligned[count < 3] = np.nan
    return aligned


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float | None:
    """Procrustes-aligned MPJPE (rotation, translation and scale per pose), mean over poses and keypoints.

    Args:
        pred, gt: (N, J, 3) mm; NaN keypoints are skipped.
    Returns:
        mm, or None when no keypoint is finite.
    """
    return _nanmean(keypoint_errors_3d(procrustes_align(pred, gt), gt))


def benchmark_table(pred: np.ndarray, gt: np.ndarray, layout: Layout = DEFAULT_LAYOUT) -> dict:
    """Every benchmark number for (N, K, 3) predictions against ground truth, in mm, JSON-ready.

    Keys: the H3WB variants of ``h3wb_mpjpe`` as they are; PAFUSE's part-frame errors prefixed
    ``pafuse_``; ``pa_mpjpe`` over all keypoints. Where ``layout`` lacks what a number needs, the number is
    None and ``not_applicable`` (present only then) maps its key to the reason.
    """
    table: dict = h3wb_mpjpe(pred, gt, layout)
    table.update({f"pafuse_{k}": v for k, v in pafuse_part_mpjpe(pred, gt, layout).items()})
    table["pa_mpjpe"] = pa_mpjpe(pred, gt)
    if reasons := not_applicable(layout):
        table["not_applicable"] = {key: reasons[key] for key in table if key in reasons}
    return table


def best_by_score(scores: np.ndarray, keep_fraction: float) -> np.ndarray:
    """Indices of the best (lowest) ``keep_fraction`` of the finite (N,) ``scores``, best first (ties stable).

    What selection by a quality score keeps (H3WB kept about two-thirds); at least one when any is finite.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not 0.0 < keep_fraction <= 1.0:
        raise ValueError(f"scores must be (N,) and keep_fraction in (0, 1], got {scores.shape} and {keep_fraction}")
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size == 0:
        return finite
    order = finite[np.argsort(scores[finite], kind="stable")]
    return order[: max(1, int(round(keep_fraction * finite.size)))]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two (N,) arrays over the pairs where both are finite (average ranks for ties)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be (N,) arrays of one length, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return float("nan")
    ra, rb = _ranks(a[keep]), _ranks(b[keep])
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((ra**2).sum() * (rb**2).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    # Average the ranks of ties.
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]
