"""The generic multi-view format's line parser: a frame written is the frame read; every bad value is refused
naming the frame and field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotator import keypoints
from annotator import multiview_format as mf
from annotator.multiview_format import MultiviewFormatError

J = keypoints.NUM_KEYPOINTS
HEADER = mf.parse_header({"format": mf.FORMAT, "version": 1, "rig": {"format": "anipose", "file": "c.toml"}})


def frame(**changes) -> dict:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 900, (J, 2))
    xy[5] = np.nan
    out = json.loads(mf.frame_text(mf.FrameRecord("S1", "Walking 1", 10, [
        mf.ViewRecord("A", "S1/a.jpg", xy, (1, 2, 30, 40), 7, {"det": (xy, np.full(J, 0.5))}),
        mf.ViewRecord("B", "S1/b.png"),
    ], rng.uniform(-900, 900, (J, 3)))))  # fmt: skip
    out.update(changes)
    return out


def test_a_frame_written_is_the_frame_read():
    line = frame()
    got = mf.parse_frame(line, HEADER, "frame 1")
    assert got.key == ("S1", "Walking 1", 10) and [v.camera for v in got.views] == ["A", "B"]
    a = got.views[0]
    assert (a.image, a.bbox, a.sample_id) == ("S1/a.jpg", (1, 2, 30, 40), 7)
    assert np.isnan(a.keypoints_2d[5]).all() and np.isfinite(a.keypoints_2d[6]).all()
    assert json.loads(mf.frame_text(got)) == line
    assert got.views[1].keypoints_2d is None and got.ground_truth_3d is None


def test_units_scale_the_3d():
    header = mf.parse_header({"format": mf.FORMAT, "version": 1, "units": "m"})
    line = frame(keypoints_3d=[[1.0, 2.0, 0.5]] * J)
    np.testing.assert_allclose(mf.parse_frame(line, header, "frame 1").keypoints_3d[0], [1000.0, 2000.0, 500.0])


def _view(**changes):
    view = frame()["views"]["A"]
    view.update(changes)
    return {"views": {"A": view}}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject": ""}, "subject '' must not be empty"),
        ({"subject": "S" * 41}, "41 characters long"),
        ({"sequence": "a\nb"}, "control character"),
        ({"frame": -1}, "frame must be an integer from 0"),
        ({"frame": True}, "frame must be an integer"),
        ({"views": {}}, "views must map camera names to views"),
        ({"extra": 1}, "unknown field 'extra'"),
        ({"keypoints_3d": [[0.0, 0.0, 0.0]] * (J - 1)}, f"keypoints_3d must be a list of {J} points"),
        ({"keypoints_3d": [[0.0, 0.0, True]] + [[0.0, 0.0, 0.0]] * (J - 1)}, r"keypoints_3d\[0\] must be 3 numbers"),
        ({"keypoints_3d": [[0.0, 0.0, 1e300]] + [[0.0, 0.0, 0.0]] * (J - 1)}, r"keypoints_3d\[0\] = .* not finite"),
        ({"keypoints_3d": [[0.0, 0.0, 10**400]] + [[0.0, 0.0, 0.0]] * (J - 1)}, r"keypoints_3d\[0\]"),
        (_view(image="../etc/x.jpg"), "no '.' or '..' parts"),
        (_view(image="/etc/x.jpg"), "must be a relative path"),
        (_view(image="a\\b.jpg"), "must be a relative path"),
        (_view(image="a//b.jpg"), "must be a relative path"),
        (_view(image="a/b.gif"), "must name a .jpg, .jpeg, .png file"),
        (_view(bbox=[10, 10, 5, 20]), "max corner before its min corner"),
        (_view(sample_id=10**12), "sample_id must be an integer from 0"),
        (_view(keypoints_2d=[["1", 2]] + [[0, 0]] * (J - 1)), r"keypoints_2d\[0\] must be 2 numbers"),
        (_view(detections={"det": {"keypoints_2d": [[0, 0]] * J, "scores": [2.0] * J}}), r"scores\[0\] = 2.0 is not"),
        (_view(detections={"det": {"keypoints_2d": [[0, 0]] * J}}), "must be {keypoints_2d, scores}"),
        (_view(colour="red"), "unknown field 'colour'"),
        ({"views": {"x" * 41: {"image": "a.jpg"}}}, "camera name is 41 characters"),
    ],
)
def test_bad_frames_are_refused_naming_frame_and_field(changes, message):
    with pytest.raises(MultiviewFormatError, match=message):
        mf.parse_frame(frame(**changes), HEADER, "frame 3")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([], "the first line must be the header"),
        ({"format": "h3wb"}, "the first line must be the header"),
        ({"format": mf.FORMAT, "version": 2}, "version 2 is not 1"),
        ({"format": mf.FORMAT, "version": 1, "layout": "coco-18"}, 'layout "coco-18"; known: coco-wholebody-133'),
        ({"format": mf.FORMAT, "version": 1, "layout": 17}, "unknown layout 17"),
        ({"format": mf.FORMAT, "version": 1, "layout": "coco-17", "keypoints": 133}, "coco-17/v1 has 17 keypoints"),
        ({"format": mf.FORMAT, "version": 1, "keypoints": 17}, "has 133 keypoints, the header says 17"),
        ({"format": mf.FORMAT, "version": 1, "units": "inch"}, "units"),
        ({"format": mf.FORMAT, "version": 1, "keypoints_2d_convention": "fisheye"}, "keypoints_2d_convention"),
        ({"format": mf.FORMAT, "version": 1, "rig": {"format": "colmap"}}, "rig format"),
        ({"format": mf.FORMAT, "version": 1, "rig": {"file": "c.toml", "units": "m"}}, "unknown field 'units'"),
    ],
)
def test_bad_headers_are_refused(header, message):
    with pytest.raises(MultiviewFormatError, match=message):
        mf.parse_header(header)
