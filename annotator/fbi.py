"""Forward/Backward bone labels (FBI, HEMlets PoSh section 5): from 3D, from simulated people, and agreement.

For a bone (parent joint -> child joint) seen by a camera, the label says whether the child is
nearer the camera than the parent (``FORWARD``), farther (``BACKWARD``), or ``UNKNOWN``. People
answer it reliably when the bone is tilted more than about 30 degrees out of the image plane and
poorly below 20; a 2D drag cannot fix depth, so disagreement between confident human labels and a
skeleton's own labels exposes depth errors.

Arrays in, arrays out, no Django. Label arrays are int8 with the constants below; tilts are in
degrees in [0, 90].
"""

from __future__ import annotations

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


def bone_groups(bones: np.ndarray) -> np.ndarray:
    """(B, 2) bones -> (B,) group name of each (``BONE_GROUPS``: the metric part its child keypoint is in)."""
    bones = np.asarray(bones)
    if bones.ndim != 2 or bones.shape[1] != 2:
        raise ValueError(f"bones must have shape (B, 2), got {bones.shape}")
    out = np.empty(len(bones), dtype=object)
    for group in BONE_GROUPS:
        out[np.isin(bones[:, 1], keypoints.METRIC_PARTS[group])] = group
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
