"""Forward/Backward bone labels (FBI, HEMlets PoSh section 5): from 3D, from simulated people, and agreement.

Pure numpy math of the FBI feature, beside the other domain math (``metrics``, ``crosscheck``): the labels a
skeleton implies, simulated labellers, the flag policy, and the agreement report of people's answers
(``agreement_report``: arrays in, a JSON-ready dict out; ``selectors.fbi`` gathers its input from the database).

For a bone (parent joint -> child joint) seen by a camera, the label says whether the child is
nearer the camera than the parent (``FORWARD``), farther (``BACKWARD``), or ``UNKNOWN``. People
answer it reliably when the bone is tilted more than about 30 degrees out of the image plane and
poorly below 20; a 2D drag cannot fix depth, so disagreement between confident human labels and a
skeleton's own labels exposes depth errors.

Arrays in, arrays out, no Django. Label arrays are int8 with the constants below; tilts are in
degrees in [0, 90].
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from annotator import keypoints

FORWARD = 1
BACKWARD = -1
UNKNOWN = 0
#: Label value for a bone a person skipped (only in human label arrays).
SKIPPED = 2
LABEL_NAMES = {FORWARD: "forward", BACKWARD: "backward", UNKNOWN: "unknown", SKIPPED: "skipped"}

#: Below this tilt (degrees) a skeleton's own label is ``UNKNOWN``. The dataset's typical 3D error
#: (about 17 mm per joint, H3WB) on a 250 mm forearm can flip the sign of its depth difference up
#: to asin(2 * 17 / 250) = 7.8 degrees, so 10 degrees keeps labels whose sign the error cannot flip.
DEFAULT_UNKNOWN_TILT_DEG = 10.0
#: Tilt bins of the agreement analysis (HEMlets reports people's accuracy by tilt).
TILT_BINS_DEG: tuple[float, ...] = (0.0, 10.0, 20.0, 30.0, 90.0)


def bone_geometry(X_cam: np.ndarray, bones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth difference and tilt of every bone in camera space.

    Args:
        X_cam: (..., J, 3) camera-space joints, mm (z forward, away from the camera).
        bones: (B, 2) (parent, child) joint indices.
    Returns:
        depth: (..., B) child z minus parent z, mm (negative: the child is nearer the camera).
        tilt: (..., B) angle between the bone and the image plane, degrees in [0, 90]; NaN for
            zero-length or missing bones.
    """
    X_cam = np.asarray(X_cam, dtype=np.float64)
    bones = np.asarray(bones)
    if X_cam.ndim < 2 or X_cam.shape[-1] != 3:
        raise ValueError(f"X_cam must have shape (..., J, 3), got {X_cam.shape}")
    if bones.ndim != 2 or bones.shape[1] != 2 or len(bones) == 0:
        raise ValueError(f"bones must have shape (B, 2), got {bones.shape}")
    if bones.min() < 0 or bones.max() >= X_cam.shape[-2]:
        raise ValueError(f"bone indices must lie in [0, {X_cam.shape[-2] - 1}]")
    vec = X_cam[..., bones[:, 1], :] - X_cam[..., bones[:, 0], :]  # (..., B, 3)
    depth = vec[..., 2]
    return depth, _tilt(depth, np.linalg.norm(vec, axis=-1))


def _tilt(depth: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Angle (degrees) out of the image plane of a bone with this depth difference and length; NaN if length 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tilt = np.degrees(np.arcsin(np.clip(np.abs(depth) / length, 0.0, 1.0)))
    return np.where(length > 0, tilt, np.nan)


def labels_from_geometry(
    depth: np.ndarray, tilt: np.ndarray, unknown_tilt_deg: float = DEFAULT_UNKNOWN_TILT_DEG
) -> np.ndarray:
    """(..., B) depth differences and tilts -> (..., B) int8 labels, ``UNKNOWN`` below ``unknown_tilt_deg``."""
    if not 0 <= unknown_tilt_deg < 90:
        raise ValueError(f"unknown_tilt_deg must be within [0, 90), got {unknown_tilt_deg}")
    labels = np.where(depth < 0, FORWARD, BACKWARD).astype(np.int8)
    confident = np.isfinite(tilt) & (tilt >= unknown_tilt_deg)
    return np.where(confident, labels, UNKNOWN).astype(np.int8)


def skeleton_labels(
    X_world: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    bones: np.ndarray,
    unknown_tilt_deg: float = DEFAULT_UNKNOWN_TILT_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """FBI labels of N skeletons in V views, vectorised over both.

    Args:
        X_world: (N, J, 3) world mm.
        R: (V, 3, 3) world-to-camera rotations; t: (V, 3) translations, mm (checked, but a bone's
            depth difference does not depend on them).
        bones: (B, 2) (parent, child) indices.
    Returns:
        labels: (N, V, B) int8; tilt: (N, V, B) degrees.
    """
    X_world = np.asarray(X_world, dtype=np.float64)
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    bones = np.asarray(bones)
    if X_world.ndim != 3 or X_world.shape[-1] != 3:
        raise ValueError(f"X_world must have shape (N, J, 3), got {X_world.shape}")
    if R.ndim != 3 or R.shape[1:] != (3, 3) or t.shape != (R.shape[0], 3):
        raise ValueError(f"R must have shape (V, 3, 3) and t (V, 3), got {R.shape} and {t.shape}")
    if bones.ndim != 2 or bones.shape[1] != 2 or len(bones) == 0:
        raise ValueError(f"bones must have shape (B, 2), got {bones.shape}")
    if bones.min() < 0 or bones.max() >= X_world.shape[1]:
        raise ValueError(f"bone indices must lie in [0, {X_world.shape[1] - 1}]")
    # Depth differences need only each camera's optical axis (row 2 of R): the translation cancels in
    # a bone vector and the length is the same in every frame, so nothing else is transformed.
    vec = X_world[:, bones[:, 1]] - X_world[:, bones[:, 0]]  # (N, B, 3)
    depth = np.einsum("va,nba->nvb", R[:, 2], vec)  # (N, V, B)
    tilt = _tilt(depth, np.linalg.norm(vec, axis=-1)[:, None, :])
    return labels_from_geometry(depth, tilt, unknown_tilt_deg), tilt


@dataclass(frozen=True)
class LabellerModel:
    """How simulated people answer, per tilt bin (``TILT_BINS_DEG``): error and skip probabilities.

    Defaults follow HEMlets PoSh: above 30 degrees 7.4% of answers are wrong and under 10% are
    skipped; below 20 degrees people are poor (many skips, near-chance errors among answers).
    """

    error_rate: tuple[float, ...] = (0.40, 0.25, 0.12, 0.074)
    skip_rate: tuple[float, ...] = (0.70, 0.40, 0.15, 0.08)
    seconds_per_bone: float = 1.2

    def __post_init__(self) -> None:
        n = len(TILT_BINS_DEG) - 1
        for name in ("error_rate", "skip_rate"):
            values = getattr(self, name)
            if len(values) != n or not all(0 <= v <= 1 for v in values):
                raise ValueError(f"{name} needs {n} probabilities in [0, 1], one per tilt bin")


def tilt_bin(tilt: np.ndarray) -> np.ndarray:
    """(...) degrees -> (...) index into the bins of ``TILT_BINS_DEG`` (-1 for NaN)."""
    edges = np.asarray(TILT_BINS_DEG[1:-1])
    out = np.digitize(np.nan_to_num(tilt, nan=-1.0), edges)
    return np.where(np.isfinite(tilt), out, -1)


def simulate_labels(
    true_labels: np.ndarray, tilt: np.ndarray, rng: np.random.Generator, model: LabellerModel = LabellerModel()
) -> np.ndarray:
    """Human-like answers to the true labels: skips and errors depend on the bone's tilt.

    Args:
        true_labels: (...) FORWARD/BACKWARD (the ground truth's sign, whatever its tilt).
        tilt: (...) degrees.
    Returns:
        (...) int8 FORWARD / BACKWARD / SKIPPED.
    """
    true_labels = np.asarray(true_labels)
    if true_labels.shape != np.shape(tilt):
        raise ValueError(f"true_labels {true_labels.shape} and tilt {np.shape(tilt)} must have the same shape")
    b = np.clip(tilt_bin(tilt), 0, None)
    error = np.asarray(model.error_rate)[b]
    skip = np.asarray(model.skip_rate)[b]
    u = rng.random((2, *true_labels.shape))
    answers = np.where(u[0] < error, -true_labels, true_labels).astype(np.int8)
    return np.where((u[1] < skip) | ~np.isfinite(tilt), SKIPPED, answers).astype(np.int8)


def agreement_by_tilt(human: np.ndarray, reference: np.ndarray, tilt: np.ndarray) -> list[dict]:
    """Error and skip rates of human labels against reference labels, per tilt bin.

    Args:
        human: (...) FORWARD / BACKWARD / UNKNOWN / SKIPPED.
        reference: (...) labels implied by a skeleton (UNKNOWN ones are left out of the error rate).
        tilt: (...) the reference bone's tilt, degrees.
    Returns:
        One dict per bin: ``low``, ``high``, ``n``, ``answered``, ``skip_rate``, ``error_rate``.
    """
    human, reference = np.asarray(human), np.asarray(reference)
    if not human.shape == reference.shape == np.shape(tilt):
        raise ValueError("human, reference and tilt must have the same shape")
    b = tilt_bin(tilt)
    rows = []
    for i, (low, high) in enumerate(zip(TILT_BINS_DEG[:-1], TILT_BINS_DEG[1:], strict=True)):
        sel = b == i
        answered = sel & np.isin(human, (FORWARD, BACKWARD))
        scored = answered & (reference != UNKNOWN)
        n, n_answered, n_scored = int(sel.sum()), int(answered.sum()), int(scored.sum())
        rows.append(
            {
                "low": low,
                "high": high,
                "n": n,
                "answered": n_answered,
                "skip_rate": (n - n_answered) / n if n else None,
                "error_rate": float((human[scored] != reference[scored]).mean()) if n_scored else None,
            }
        )
    return rows


# --- flags a reviewer can act on ------------------------------------------------------------------------------

#: Bone groups of the flag policy: the metric part of a bone's child (feet count with the body).
BONE_GROUPS: tuple[str, ...] = ("body", "face", "hand")


def bone_groups(bones: np.ndarray, layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT) -> np.ndarray:
    """(B, 2) bones -> (B,) group name of each (``BONE_GROUPS``: the metric part of ``layout`` its child keypoint
    is in; a layout without a face or hands, such as COCO-17, has body bones only)."""
    bones = np.asarray(bones)
    if bones.ndim != 2 or bones.shape[1] != 2:
        raise ValueError(f"bones must have shape (B, 2), got {bones.shape}")
    out = np.full(len(bones), "body", dtype=object)
    for group in BONE_GROUPS:
        if group in layout.metric_parts:
            out[np.isin(bones[:, 1], layout.metric_parts[group])] = group
    return out.astype(str)


def bone_lengths(X: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """(..., J, 3) skeletons -> (..., B) bone lengths, mm."""
    X = np.asarray(X, dtype=np.float64)
    bones = np.asarray(bones)
    return np.linalg.norm(X[..., bones[:, 1], :] - X[..., bones[:, 0], :], axis=-1)


@dataclass(frozen=True)
class FlagPolicy:
    """Which contradictions of a skeleton's FBI labels become probable depth errors for a reviewer.

    A (skeleton, view, bone) is flagged when its bone is in ``groups``, its length (in the skeleton) lies in
    ``length_mm`` and its tilt in ``tilt_deg`` (degrees, [low, high)), at least ``min_agreeing`` people answered
    it confidently against the skeleton's label, and nobody answered it confidently with it.

    Why these defaults (measured by ``python -m tests.benchmarks.fbi_flags`` on rigs with ground truth and the
    default ``LabellerModel``; ``FLAG_CALIBRATION`` records the figures): an H3WB-sized error (about 17 mm a
    joint) cannot flip the depth of a bone of a few hundred mm tilted more than 10 degrees, so on the 14 HEMlets
    body bones a contradiction is nearly always the labeller's mistake (precision about 0.01); the flips are on
    short face and finger bones. One labeller errs on 7-40% of answers, so two who agree are needed. Bones under
    10 mm are left out although the rig flips them most: a person cannot see such a bone's direction in a
    Human3.6M image (an assumption the labeller model, which knows only the tilt, does not make).
    """

    groups: tuple[str, ...] = ("face", "hand")
    length_mm: tuple[float, float] = (10.0, 40.0)
    tilt_deg: tuple[float, float] = (10.0, 90.0)
    min_agreeing: int = 2

    def __post_init__(self) -> None:
        unknown = [g for g in self.groups if g not in BONE_GROUPS]
        if unknown or not self.groups:
            raise ValueError(f"groups must be some of {', '.join(BONE_GROUPS)}, got {self.groups!r}")
        for name, (low, high), top in (("length_mm", self.length_mm, np.inf), ("tilt_deg", self.tilt_deg, 90.0)):
            if not (0 <= low < high <= top):
                raise ValueError(f"{name} must be (low, high) with 0 <= low < high <= {top:g}, got {(low, high)}")
        if isinstance(self.min_agreeing, bool) or not isinstance(self.min_agreeing, int) or self.min_agreeing < 1:
            raise ValueError(f"min_agreeing must be a positive integer, got {self.min_agreeing!r}")

    def as_dict(self) -> dict:
        return {"groups": list(self.groups), "length_mm": list(self.length_mm), "tilt_deg": list(self.tilt_deg),
                "min_agreeing": self.min_agreeing}  # fmt: skip


DEFAULT_FLAG_POLICY = FlagPolicy()
#: What ``DEFAULT_FLAG_POLICY`` was measured to do on unseen rigs (mean and standard deviation over rig seeds;
#: ``python -m tests.benchmarks.fbi_flags``, which prints these figures and checks them): the share of its flags
#: that are real depth errors, and the share of the real errors (on the policy's bones, with two labellers per
#: frame) that it flags. The dashboard shows 1 - precision as the expected false-alarm rate.
FLAG_CALIBRATION: dict = {
    "precision": (0.822, 0.029),
    "recall": (0.139, 0.013),
    "seeds": 5,
    "rig": "unseen subjects S9 and S11, 150 instants each per seed, every bone answered in four views",
    "labellers_per_frame": 2,
    "command": "python -m tests.benchmarks.fbi_flags",
}


def contradiction_counts(answers: np.ndarray, skeleton: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """People's confident answers against and with a skeleton's labels.

    Args:
        answers: (P, ...) P people's answers (FORWARD / BACKWARD / UNKNOWN / SKIPPED; SKIPPED where one did not
            answer).
        skeleton: (...) the skeleton's labels.
    Returns:
        (...) how many contradict the skeleton's (confident) label, and how many confirm it.
    """
    answers, skeleton = np.asarray(answers), np.asarray(skeleton)
    if answers.shape[1:] != skeleton.shape:
        raise ValueError(f"answers {answers.shape} must be (P, *{skeleton.shape})")
    confident = np.isin(answers, (FORWARD, BACKWARD)) & np.isin(skeleton, (FORWARD, BACKWARD))[None]
    return (confident & (answers != skeleton[None])).sum(axis=0), (confident & (answers == skeleton[None])).sum(axis=0)


def depth_error_flags(
    contradicting: np.ndarray,
    confirming: np.ndarray,
    tilt: np.ndarray,
    length: np.ndarray,
    group: np.ndarray,
    policy: FlagPolicy = DEFAULT_FLAG_POLICY,
) -> np.ndarray:
    """(...) bool: the (skeleton, view, bone)s ``policy`` flags as probable depth errors.

    All arguments have one shape: counts from ``contradiction_counts``, the skeleton's bone tilt (degrees) and
    length (mm), and the bone's group (``bone_groups``).
    """
    contradicting, confirming = np.asarray(contradicting), np.asarray(confirming)
    tilt, length, group = np.nan_to_num(np.asarray(tilt, float), nan=-1.0), np.asarray(length, float), np.asarray(group)
    if not contradicting.shape == confirming.shape == tilt.shape == length.shape == group.shape:
        raise ValueError("contradicting, confirming, tilt, length and group must have the same shape")
    (lo_l, hi_l), (lo_t, hi_t) = policy.length_mm, policy.tilt_deg
    return (
        np.isin(group, policy.groups)
        & (length >= lo_l) & (length < hi_l)
        & (tilt >= lo_t) & ((tilt < hi_t) | (hi_t >= 90.0) & (tilt <= 90.0))
        & (contradicting >= policy.min_agreeing) & (confirming == 0)
    )  # fmt: skip


# --- the agreement report -------------------------------------------------------------------------------------

#: Reference skeletons of the agreement report, in report order (``Skeleton3D.Source`` values).
REFERENCES: tuple[str, ...] = ("dataset", "corrected", "ground_truth")


@dataclass
class AnswerData:
    """People's FBI answers and the skeletons they are judged against (A answers, C cameras, J keypoints).

    Attributes:
        rows: A plain records, the latest answer per (task, view, bone): ``task``, ``view``, ``parent``,
            ``child``, ``label`` (its name), ``camera`` (id), ``camera_name``, ``frame``, ``base`` (id of the
            dataset skeleton the person saw), ``annotator``, ``frame_label``.
        human: (A,) int8 the answers (FORWARD / BACKWARD / UNKNOWN / SKIPPED).
        camera: (A,) index into ``R`` and ``t`` of each answer's camera.
        R: (C, 3, 3) world-to-camera rotations; t: (C, 3) translations, mm.
        skeleton_of: reference source (``REFERENCES``) -> A skeleton ids, None where the frame has no such
            skeleton: the dataset skeleton each person saw, the frame's latest corrected one, its ground truth.
        skeletons: skeleton id -> (J, 3) world mm, for every id in ``skeleton_of``.
        answer_seconds: seconds of every stored answer (changed ones too).
        image_seconds: seconds spent on each (task, view) image, summed over its stored answers.
        layout: the keypoint layout of the skeletons and bones (names, bone groups).
    """

    rows: list[dict]
    human: np.ndarray
    camera: np.ndarray
    R: np.ndarray
    t: np.ndarray
    skeleton_of: dict[str, list[int | None]]
    skeletons: dict[int, np.ndarray]
    answer_seconds: list[float]
    image_seconds: list[float]
    layout: keypoints.Layout = keypoints.DEFAULT_LAYOUT

    def __post_init__(self) -> None:
        n = len(self.rows)
        if self.human.shape != (n,) or self.camera.shape != (n,):
            raise ValueError(f"human and camera must have shape ({n},), got {self.human.shape} and {self.camera.shape}")
        if self.R.ndim != 3 or self.R.shape[1:] != (3, 3) or self.t.shape != (len(self.R), 3):
            raise ValueError(f"R must have shape (C, 3, 3) and t (C, 3), got {self.R.shape} and {self.t.shape}")
        if set(self.skeleton_of) != set(REFERENCES) or any(len(ids) != n for ids in self.skeleton_of.values()):
            raise ValueError(f"skeleton_of needs {n} skeleton ids for each of {', '.join(REFERENCES)}")
        missing = {s for ids in self.skeleton_of.values() for s in ids if s is not None} - set(self.skeletons)
        if missing:
            raise ValueError(f"skeletons lacks ids {sorted(missing)}")


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 6) if d else None


def reference_labels(data: AnswerData, ids: list[int | None], unknown_tilt_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The labels and tilts that skeletons ``ids`` (one per answer, None for none) imply for each answered bone.

    Returns:
        labels: (A,) int8, UNKNOWN where there is no skeleton; tilt: (A,) degrees, NaN where there is none.
    """
    rows = data.rows
    bone_list = sorted({(r["parent"], r["child"]) for r in rows})
    b_idx = np.asarray([bone_list.index((r["parent"], r["child"])) for r in rows])
    bones = np.asarray(bone_list, dtype=np.intp)
    labels = np.full(len(rows), UNKNOWN, dtype=np.int8)
    tilt = np.full(len(rows), np.nan)
    known = sorted({s for s in ids if s is not None})
    if known:
        stack = np.stack([data.skeletons[s] for s in known])  # (S, J, 3)
        lab, til = skeleton_labels(stack, data.R, data.t, bones, unknown_tilt_deg)  # (S, C, B)
        a = np.flatnonzero([s is not None for s in ids])
        s_idx = np.asarray([known.index(ids[i]) for i in a], dtype=np.intp)
        labels[a] = lab[s_idx, data.camera[a], b_idx[a]]
        tilt[a] = til[s_idx, data.camera[a], b_idx[a]]
    return labels, tilt


def agreement_report(
    data: AnswerData, unknown_tilt_deg: float = DEFAULT_UNKNOWN_TILT_DEG, policy: FlagPolicy = DEFAULT_FLAG_POLICY
) -> dict | None:
    """People's answers against the labels of the dataset skeleton each person saw, the frame's latest corrected
    skeleton and its ground truth; and the probable depth errors ``policy`` flags.

    Keys: counts (``n_answers``, ``n_tasks``, ``n_images``, ``n_frames``), ``answers_by_label``, ``seconds``
    (per answer and per image), ``references`` (source -> ``{"n", "bins"}`` from ``agreement_by_tilt``, or None
    where no such skeleton exists); the flags: ``probable_depth_errors`` (one per dataset skeleton, view and bone
    that ``policy`` flags from everybody's answers on it, ``depth_error_flags``; steepest first, with the true
    direction where known), ``depth_error_frames``, ``policy``, ``calibration`` (what the policy was measured to
    do on unseen rigs, ``FLAG_CALIBRATION``, and the ``expected_false_alarm_rate``), ``contradicted`` (bones
    people contradicted, flagged or not, per bone group), ``max_labellers`` (most people on one bone) and
    ``depth_error_check`` (with ground truth: how many flags the dataset really has backwards). None without
    answers.
    """
    rows = data.rows
    if not rows:
        return None
    refs = {source: reference_labels(data, data.skeleton_of[source], unknown_tilt_deg) for source in REFERENCES}
    references = {}
    for source in REFERENCES:
        labels, tilt = refs[source]
        known = np.isfinite(tilt)
        references[source] = (
            {"n": int(known.sum()), "bins": agreement_by_tilt(data.human[known], labels[known], tilt[known])}
            if known.any() else None
        )  # fmt: skip
    per_image = data.image_seconds
    return {
        "n_answers": len(rows),
        "n_tasks": len({r["task"] for r in rows}),
        "n_images": len({(r["task"], r["view"]) for r in rows}),
        "n_frames": len({r["frame"] for r in rows}),
        "annotators": sorted({r["annotator"] for r in rows}),
        "answers_by_label": {name: int(n) for name, n in Counter(r["label"] for r in rows).most_common()},
        "unknown_tilt_deg": unknown_tilt_deg,
        "tilt_bins_deg": list(TILT_BINS_DEG),
        "seconds": {
            "per_answer_mean": round(statistics.fmean(data.answer_seconds), 3),
            "per_image_mean": round(statistics.fmean(per_image), 3),
            "per_image_median": round(statistics.median(per_image), 3),
        },
        "references": references,
        **_flags(data, refs, policy),
    }


def _flags(data: AnswerData, refs: dict[str, tuple[np.ndarray, np.ndarray]], policy: FlagPolicy) -> dict:
    """The flag part of ``agreement_report``: answers grouped per (dataset skeleton, view, bone), counted against
    the skeleton's label, and flagged by ``policy``. ``refs``: source -> (A,) labels and tilts."""
    rows, human = data.rows, data.human
    ds_labels, ds_tilt = refs["dataset"]
    # The ground truth's direction of each answered bone, however slightly tilted (UNKNOWN without one).
    truth_sign, _ = reference_labels(data, data.skeleton_of["ground_truth"], 0.0)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for a, r in enumerate(rows):
        groups[(r["base"], r["view"], r["parent"], r["child"])].append(a)
    keys = list(groups)
    first = np.asarray([groups[k][0] for k in keys], dtype=np.intp)
    width = max(len(v) for v in groups.values())
    answers = np.full((width, len(keys)), SKIPPED, dtype=np.int8)  # (P, G): SKIPPED pads the missing people
    for g, key in enumerate(keys):
        answers[: len(groups[key]), g] = human[groups[key]]
    against, with_ = contradiction_counts(answers, ds_labels[first])
    bone_pairs = np.asarray([[r["parent"], r["child"]] for r in (rows[a] for a in first)], dtype=np.intp)
    group_of = bone_groups(bone_pairs, data.layout)
    lengths = _dataset_bone_lengths(data, first)
    flagged = depth_error_flags(against, with_, ds_tilt[first], lengths, group_of, policy)
    order = np.flatnonzero(flagged)
    order = order[np.argsort(-ds_tilt[first][order], kind="stable")]
    errors = []
    for g in order.tolist():
        a = int(first[g])
        r = rows[a]
        members = groups[keys[g]]
        contra = [m for m in members if human[m] in (FORWARD, BACKWARD) and human[m] != ds_labels[a]]
        truth = LABEL_NAMES[int(truth_sign[a])] if truth_sign[a] != UNKNOWN else None
        dataset_label = LABEL_NAMES[int(ds_labels[a])]
        errors.append(
            {"task": r["task"], "tasks": [rows[m]["task"] for m in members], "frame": r["frame"],
             "frame_label": r["frame_label"], "view": r["view"], "camera": r["camera_name"], "parent": r["parent"],
             "child": r["child"], "bone": data.layout.bone_name(r["parent"], r["child"]), "group": str(group_of[g]),
             "annotators": sorted({rows[m]["annotator"] for m in contra}), "human": rows[contra[0]]["label"],
             "n_against": int(against[g]), "n_with": int(with_[g]), "dataset": dataset_label,
             "tilt_deg": round(float(ds_tilt[a]), 2), "length_mm": round(float(lengths[g]), 1),
             "ground_truth": truth, "dataset_wrong": None if truth is None else truth != dataset_label}
        )  # fmt: skip
    checked = [e for e in errors if e["dataset_wrong"] is not None]
    contradicted = against >= 1
    precision = FLAG_CALIBRATION["precision"]
    # A body-only layout has no face or hand bones: the default policy can list nothing there, and says so.
    layout_groups = {"body", *(g for g in BONE_GROUPS if g in data.layout.metric_parts)}
    policy_note = None
    if not layout_groups & set(policy.groups):
        policy_note = (f"the flag policy looks at {' and '.join(policy.groups)} bones, which the {data.layout.title} "
                       "layout does not have: it lists nothing here")  # fmt: skip
    return {
        "policy": policy.as_dict(),
        "policy_note": policy_note,
        "calibration": {
            **FLAG_CALIBRATION,
            "expected_false_alarm_rate": round(1.0 - precision[0], 3),
            # Measured on COCO-WholeBody rigs with the default policy: another layout or policy is not calibrated.
            "applies": policy == DEFAULT_FLAG_POLICY and data.layout is keypoints.DEFAULT_LAYOUT,
        },  # fmt: skip
        "max_labellers": int(width),
        "contradicted": {
            group: {
                "bones": int((contradicted & (group_of == group)).sum()),
                "flagged": int((flagged & (group_of == group)).sum()),
            }
            for group in BONE_GROUPS
        },  # fmt: skip
        "probable_depth_errors": errors,
        "n_probable_depth_errors": len(errors),
        "depth_error_frames": sorted({e["frame"] for e in errors}),
        "depth_error_check": (
            {
                "n": len(checked),
                "dataset_wrong": sum(e["dataset_wrong"] for e in checked),
                "precision": _rate(sum(e["dataset_wrong"] for e in checked), len(checked)),
            }
            if checked
            else None
        ),  # fmt: skip
    }


def _dataset_bone_lengths(data: AnswerData, first: np.ndarray) -> np.ndarray:
    """(G,) length (mm) of each group's bone in the dataset skeleton people were shown (``first``: an answer of
    each group)."""
    rows, base = data.rows, data.skeleton_of["dataset"]
    lengths = []
    for a in first.tolist():
        X = data.skeletons[base[a]]
        lengths.append(float(np.linalg.norm(X[rows[a]["child"]] - X[rows[a]["parent"]])))
    return np.asarray(lengths)
