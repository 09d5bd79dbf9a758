"""Files of the generic multi-view format for tests, written the way the format says (no rendering).

``write_multiview`` writes a calibration (Anipose by default) and a JSON Lines file of frames whose 3D are
whole-body skeletons of the synthetic people (``fixtures.synthetic.body``), their 2D the projections into
each camera; it returns the paths and the truth, so tests know every expected number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from annotator import camera_formats, geometry, keypoints, multiview_format
from annotator.importers import conventions
from fixtures.synthetic import rigs

#: (subject, sequence, frame index) of the frames written by default.
FRAMES = (("S1", "Walking 1", 10), ("S1", "Walking 1", 15), ("S5", "Sitting 1", 40))


@cache
def skeleton(n: int) -> np.ndarray:
    """(J, 3) world mm: the n-th of a few poses of the synthetic person S1 (standing near the origin)."""
    from fixtures.synthetic import body, motion

    poses = motion.sequence("Walking", np.arange(0, 60, 5), seed=1)
    figure = body.pose_figure(body.build("S1"), poses[n % len(poses)])
    return figure.keypoints


@dataclass
class Written:
    """What ``write_multiview`` wrote: the file, the rig file, the cameras and the truth per frame."""

    path: Path
    rig_path: Path | None
    cameras: list
    world: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict)
    points_2d: dict[tuple[str, str, int, str], np.ndarray] = field(default_factory=dict)


def write_multiview(
    directory: Path,
    *,
    cameras: list | None = None,
    frames=FRAMES,
    rig_format: str = "anipose",
    with_3d: bool = True,
    with_2d: bool = True,
    ground_truth: bool = False,
    units: str = "mm",
    convention: str = "distorted",
    images: str | None = None,
    edit=None,
    name: str = "frames.jsonl",
    layout: str = keypoints.LAYOUT_VERSION,
) -> Written:
    """Write a calibration and a frames file into ``directory``; ``edit(n, frame_dict)`` may change frame n's line.

    ``layout``: the keypoint layout of the file (any ``fixtures.synthetic.dataset.layout_indices`` can fill
    from the whole-body people, e.g. COCO-17); the truth in ``Written`` is in that layout.
    """
    from fixtures.synthetic.dataset import layout_indices

    chosen = keypoints.layout_get(layout)
    keep = layout_indices(chosen)
    directory.mkdir(parents=True, exist_ok=True)
    cameras = list(cameras if cameras is not None else rigs.ring(6))
    scale = camera_formats.UNITS[units]
    rig_path = None
    if rig_format == "h36m":
        rig_file = None
    else:
        rig_path = directory / f"calibration{camera_formats.FORMATS[rig_format].suffixes[0]}"
        in_units = [type(c)(K=c.K, R=c.R, t=c.t / scale, dist=c.dist, size=c.size, model=c.model, name=c.name)
                    for c in cameras]  # fmt: skip
        camera_formats.write_rig(in_units, rig_path, rig_format)
        rig_file = rig_path.name
    header = multiview_format.Header(chosen.version, chosen.num_keypoints, units=units,
                                     convention=convention, images=images, rig_format=rig_format,
                                     rig_file=rig_file)  # fmt: skip
    written = Written(directory / name, rig_path, cameras)
    lines = [multiview_format.header_text(header)]
    for n, (subject, sequence, index) in enumerate(frames):
        X = skeleton(n)[keep]
        cams = cameras if rig_format != "h36m" else list(rigs.cameras("h36m", subject))
        written.world[(subject, sequence, index)] = X
        views = []
        for c, cam in enumerate(cams):
            xy = conventions.pinhole(cam, X) if convention == "pinhole" else geometry.project(cam, X)
            written.points_2d[(subject, sequence, index, cam.name)] = xy
            views.append(multiview_format.ViewRecord(cam.name, f"{subject}/{sequence}/{cam.name}/{index:06d}.jpg",
                                                     xy if with_2d else None, sample_id=100 * n + c))  # fmt: skip
        record = multiview_format.FrameRecord(subject, sequence, index, views, X / scale if with_3d else None,
                                              X / scale if ground_truth else None)  # fmt: skip
        extra = round(np.log10(scale))  # decimals enough for 1e-4 mm in any unit
        line = json.loads(multiview_format.frame_text(record, multiview_format.DECIMALS + extra))
        if edit is not None:
            line = edit(n, line)
        lines.append(json.dumps(line))
    written.path.write_text("\n".join(lines) + "\n")
    return written
