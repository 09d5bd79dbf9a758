"""Rigs with ground truth for the FBI flag calibration, without rendering: the synthetic rig's people posed by its
motion library (``fixtures.synthetic``), its error model for the dataset skeletons, the Human3.6M cameras of the
subject, and simulated labellers (``annotator.fbi.simulate_labels``) answering every bone in every view.

Shared by ``tests/annotator/test_fbi.py`` (one unseen rig) and ``tests/benchmarks/fbi_flags.py`` (several).
A few milliseconds per frame: the flag statistics need thousands of frames, not their images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator import fbi, h36m, keypoints

#: Subjects the demo and the tests' rigs do not render by default: unseen people.
UNSEEN_SUBJECTS = ("S9", "S11")


@dataclass
class FBIRig:
    """Every (frame, view, bone) of a rig, flattened: what people answered and what is true.

    Attributes:
        answers: (P, N) the P labellers' answers.
        dataset: (N,) the dataset skeleton's labels (UNKNOWN below ``fbi.DEFAULT_UNKNOWN_TILT_DEG``).
        tilt, length: (N,) the dataset bone's tilt (degrees) and length (mm).
        group: (N,) bone group (``fbi.bone_groups``).
        wrong: (N,) the dataset's confident label is not the ground truth's direction.
        child: (N,) the bone's child keypoint (a bone is known by its child: ``keypoints.PARENTS``).
    """

    answers: np.ndarray
    dataset: np.ndarray
    tilt: np.ndarray
    length: np.ndarray
    group: np.ndarray
    wrong: np.ndarray
    child: np.ndarray


def rig_skeletons(subject: str, frames: int, seed: int) -> tuple[np.ndarray, np.ndarray, list]:
    """(N, J, 3) ground truth and dataset skeletons of ``frames`` instants spread over the rig's actions, and the
    subject's cameras."""
    from fixtures.synthetic import body, motion
    from fixtures.synthetic.errors import ErrorModel, apply_errors

    build = body.build(subject)
    truths, datasets = [], []
    actions = motion.ACTION_NAMES
    for a, action in enumerate(actions):
        n = frames // len(actions) + (a < frames % len(actions))
        if not n:
            continue
        rng = np.random.default_rng([seed, a])
        frame_ids = motion.frame_indices(n, rng)
        truth = np.stack([body.pose_figure(build, p).keypoints
                          for p in motion.sequence(action, frame_ids, int(rng.integers(2**31)))])  # fmt: skip
        dataset, _ = apply_errors(truth, frame_ids / h36m.FPS, ErrorModel(), rng)
        truths.append(truth)
        datasets.append(dataset)
    return np.concatenate(truths), np.concatenate(datasets), [h36m.rig(subject)[c] for c in h36m.CAMERA_IDS]


def fbi_rig(subject: str, frames: int, seed: int, labellers: int = 2, bones: str = "all") -> FBIRig:
    """A rig of ``frames`` instants whose every bone of ``bones`` in every view ``labellers`` people answered."""
    truth, dataset, cameras = rig_skeletons(subject, frames, seed)
    pairs = keypoints.bones(bones)
    R = np.stack([c.R for c in cameras])
    t = np.stack([c.t for c in cameras])
    true_labels, true_tilt = fbi.skeleton_labels(truth, R, t, pairs, unknown_tilt_deg=0.0)  # (N, V, B)
    labels, tilt = fbi.skeleton_labels(dataset, R, t, pairs)
    rng = np.random.default_rng([seed, 1_000_003])
    answers = np.stack([fbi.simulate_labels(true_labels, true_tilt, rng) for _ in range(labellers)])
    length = np.broadcast_to(fbi.bone_lengths(dataset, pairs)[:, None, :], labels.shape)
    group = np.broadcast_to(fbi.bone_groups(pairs)[None, None, :], labels.shape)
    return FBIRig(
        answers=answers.reshape(labellers, -1),
        dataset=labels.ravel(),
        tilt=tilt.ravel(),
        length=length.ravel(),
        group=group.ravel(),
        wrong=((labels != fbi.UNKNOWN) & (labels != true_labels)).ravel(),
        child=np.broadcast_to(pairs[:, 1][None, None, :], labels.shape).ravel(),
    )


def flags(rig: FBIRig, policy: fbi.FlagPolicy) -> np.ndarray:
    """(N,) what ``policy`` flags on the rig, through the functions the analysis uses."""
    contradicting, confirming = fbi.contradiction_counts(rig.answers, rig.dataset)
    return fbi.depth_error_flags(contradicting, confirming, rig.tilt, rig.length, rig.group, policy)


def precision_recall(rig: FBIRig, flagged: np.ndarray, within: np.ndarray | None = None) -> tuple:
    """(precision, recall, n flags): of the flags, the share of real errors; of the real errors (``within``, a
    mask, or all), the share flagged. None where undefined."""
    within = np.ones_like(rig.wrong) if within is None else within
    hits = int((flagged & rig.wrong).sum())
    n_flags, n_wrong = int(flagged.sum()), int((rig.wrong & within).sum())
    return (hits / n_flags if n_flags else None, int((flagged & rig.wrong & within).sum()) / n_wrong if n_wrong
            else None, n_flags)  # fmt: skip
