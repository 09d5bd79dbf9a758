"""The generic importer: a 6-camera Anipose rig and its frames round trip; 2D alone is triangulated; atomic,
idempotent, and every bad file changes nothing with an error naming the frame and field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotator import geometry, h36m
from annotator.exceptions import ApplicationError, ImportFormatError
from annotator.models import Camera, Dataset, Detection2D, Frame, Skeleton3D, View
from annotator.services.multiview_imports import CHUNK_FRAMES, dataset_import_multiview
from fixtures.synthetic import rigs
from tests.multiview_files import write_multiview


def _counts():
    return (Dataset.objects.count(), Camera.objects.count(), Frame.objects.count(), View.objects.count(),
            Skeleton3D.objects.count(), Detection2D.objects.count())  # fmt: skip


def _skeleton(key, source=Skeleton3D.Source.DATASET):
    subject, sequence, index = key
    return Skeleton3D.objects.get(frame__sequence__subject__name=subject, frame__sequence__action=sequence,
                                  frame__index=index, source=source)  # fmt: skip


@pytest.mark.django_db
class DatasetImportMultiviewTests:
    def test_a_six_camera_anipose_rig_round_trips(self, tmp_path):
        written = write_multiview(tmp_path, ground_truth=True)
        report = dataset_import_multiview(dataset_name="ring", path=written.path)
        dataset = Dataset.objects.get(name="ring")
        assert (dataset.source_format, dataset.rig_format, dataset.keypoints_2d_convention) == (
            "multiview", "anipose", "distorted")  # fmt: skip
        assert (report.frames_created, report.views_created, report.skeletons_created, report.ground_truth_created) == (
            3, 18, 3, 3)  # fmt: skip
        # Every subject gets the rig's cameras, exactly as calibrated.
        for subject in ("S1", "S5"):
            stored = list(Camera.objects.filter(subject__name=subject).order_by("pk"))
            assert [c.name for c in stored] == list("ABCDEF")
            for cam, want in zip(stored, written.cameras, strict=True):
                np.testing.assert_allclose(cam.as_geometry().P, want.P, rtol=1e-12, atol=1e-9)
        for key, X in written.world.items():
            np.testing.assert_allclose(_skeleton(key).keypoints, X, atol=1e-3)  # 4 decimals in the file
            views = View.objects.filter(frame=_skeleton(key).frame).select_related("camera")
            for view in views:
                np.testing.assert_allclose(view.keypoints_2d, written.points_2d[(*key, view.camera.name)], atol=1e-4)
        assert report.residual_px["distorted"] < 1e-3 < report.residual_px["pinhole"]
        text = str(report)
        assert "6-camera rig (Anipose calibration.toml from calibration.toml): cameras A, B, C, D, E, F" in text
        assert "created 3 frames, 18 views, 3 dataset skeletons" in text

    def test_importing_again_adds_nothing_and_other_numbers_are_refused(self, tmp_path):
        written = write_multiview(tmp_path)
        dataset_import_multiview(dataset_name="ring", path=written.path)
        before = _counts()
        report = dataset_import_multiview(dataset_name="ring", path=written.path)
        assert report.frames_unchanged == 3 and report.frames_created == 0 and _counts() == before

        def moved(n, line):
            if n == 1:
                line["keypoints_3d"][0][0] += 5.0
            return line

        changed = write_multiview(tmp_path / "changed", edit=moved)
        with pytest.raises(ImportFormatError, match="S1 / Walking 1 / frame 15 is already in this dataset with a "
                                                    "different dataset skeleton"):  # fmt: skip
            dataset_import_multiview(dataset_name="ring", path=changed.path)
        assert _counts() == before

        def clicked(n, line):
            if n == 2:
                line["views"]["C"]["keypoints_2d"][3][1] += 1.0
            return line

        with pytest.raises(ImportFormatError, match="frame 40: the view of camera C is already in this dataset "
                                                    "with other 2D keypoints"):  # fmt: skip
            dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "c2", edit=clicked).path)
        assert _counts() == before

    def test_another_calibration_is_refused(self, tmp_path):
        dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "a").path)
        before = _counts()
        other = rigs.ring(6, focal_px=1100.0)
        with pytest.raises(ImportFormatError, match="another calibration of camera A: its K"):
            dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "b", cameras=other).path)
        with pytest.raises(ImportFormatError, match="has a anipose rig, this file a opencv one"):
            dataset_import_multiview(
                dataset_name="ring", path=write_multiview(tmp_path / "c", rig_format="opencv").path
            )
        assert _counts() == before

    def test_2d_alone_is_triangulated_into_the_dataset_skeleton(self, tmp_path):
        for convention in ("distorted", "pinhole"):
            written = write_multiview(tmp_path / convention, with_3d=False, convention=convention)
            report = dataset_import_multiview(dataset_name=f"tri-{convention}", path=written.path)
            assert report.skeletons_triangulated == 3 and report.keypoints_not_triangulated == 0
            for key, X in written.world.items():
                skeleton = Skeleton3D.objects.get(frame__sequence__subject__dataset__name=f"tri-{convention}",
                                                  frame__sequence__action=key[1], frame__index=key[2])  # fmt: skip
                assert skeleton.note == "triangulated from the imported 2D"
                np.testing.assert_allclose(skeleton.keypoints, X, atol=0.05)  # 2D written to 1e-4 px

    def test_a_two_camera_rig_and_units_in_metres(self, tmp_path):
        cameras = rigs.ring(4)[:2]  # two cameras 90 degrees apart
        written = write_multiview(tmp_path, cameras=cameras, units="m", rig_format="opencv")
        dataset_import_multiview(dataset_name="pair", path=written.path)
        assert Camera.objects.filter(subject__name="S1").count() == 2
        for key, X in written.world.items():
            np.testing.assert_allclose(_skeleton(key).keypoints, X, atol=1e-3)  # metres in the file, mm stored
        stored = Camera.objects.get(subject__name="S1", name=cameras[1].name).as_geometry()
        np.testing.assert_allclose(stored.center, cameras[1].center, atol=1e-9)

    def test_the_human36m_preset_gives_each_subject_its_calibration(self, tmp_path):
        written = write_multiview(tmp_path, rig_format="h36m")
        report = dataset_import_multiview(dataset_name="h36", path=written.path)
        assert "calibrated per subject" in report.rig
        for subject in ("S1", "S5"):
            for cam in Camera.objects.filter(subject__name=subject):
                np.testing.assert_allclose(cam.as_geometry().P, h36m.camera(subject, cam.name).P)
        bad = write_multiview(tmp_path / "s2", rig_format="h36m", frames=[("S1", "Walking 1", 1)],
                              edit=lambda n, line: {**line, "subject": "S2"})  # fmt: skip
        with pytest.raises(ImportFormatError, match="subject S2: the h36m rig has no calibration for subject 'S2'"):
            dataset_import_multiview(dataset_name="h36", path=bad.path)

    def test_views_bring_their_detections(self, tmp_path):
        def detected(n, line):
            for view in line["views"].values():
                view["detections"] = {"my-detector": {"keypoints_2d": view["keypoints_2d"], "scores": [0.9] * len(
                    view["keypoints_2d"])}}  # fmt: skip
            return line

        dataset_import_multiview(dataset_name="det", path=write_multiview(tmp_path, edit=detected).path)
        assert Detection2D.objects.filter(detector="my-detector").count() == 18


def _line_edit(n_bad, change):
    def edit(n, line):
        return change(line) if n == n_bad else line

    return edit


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _line_edit(2, lambda ln: {**ln, "views": {**ln["views"], "G": ln["views"]["A"]}}),
            "S5 / Sitting 1 / frame 40: view of camera 'G', which the rig does not have "
            "\\(its cameras: A, B, C, D, E, F\\)",
        ),
        (
            _line_edit(2, lambda ln: {**ln, "frame": 10, "subject": "S1", "sequence": "Walking 1"}),
            "S1 / Walking 1 / frame 10 appears twice in the file",
        ),
        (
            _line_edit(2, lambda ln: {**ln, "keypoints_3d": ln["keypoints_3d"][:-1]}),
            r"frame 3 \(S5 / Sitting 1 / frame 40\) keypoints_3d must be a list of 133 points",
        ),
        (_line_edit(1, lambda ln: [ln]), "frame 2 must be an object"),
    ],
)
def test_a_bad_frame_anywhere_changes_nothing(tmp_path, edit, message):
    written = write_multiview(tmp_path, edit=edit)
    with pytest.raises(ImportFormatError, match=message):
        dataset_import_multiview(dataset_name="bad", path=written.path)
    assert _counts() == (0, 0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_bad_frame_after_a_written_chunk_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("annotator.services.multiview_imports.CHUNK_FRAMES", 2)
    assert CHUNK_FRAMES > 2
    written = write_multiview(tmp_path, edit=_line_edit(2, lambda ln: {**ln, "frame": "forty"}))
    with pytest.raises(ImportFormatError, match="frame must be an integer"):
        dataset_import_multiview(dataset_name="bad", path=written.path)
    assert _counts() == (0, 0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_bad_files_are_refused_before_anything_is_written(tmp_path):
    written = write_multiview(tmp_path)
    lines = written.path.read_text().splitlines()
    cases = [
        ("", "the file is empty"),
        (lines[0] + "\n", "holds a header and no frames"),
        ("\n".join(lines[1:]), "the first line must be the header"),
        (lines[0] + "\n" + lines[1][:-5], "not valid JSON Lines after frame 0"),
        (lines[0] + "\n" + "[" * 20 + "]" * 20, "refused after frame 0: nested deeper than 8"),
        (
            json.dumps({**json.loads(lines[0]), "rig": {"format": "anipose", "file": "nope.toml"}}) + "\n" + lines[1],
            "rig: .*nope.toml: no such file",
        ),
        (json.dumps({k: v for k, v in json.loads(lines[0]).items() if k != "rig"}) + "\n" + lines[1], "no rig"),
    ]
    for text, message in cases:
        written.path.write_text(text)
        with pytest.raises(ImportFormatError, match=message):
            dataset_import_multiview(dataset_name="bad", path=written.path)
    with pytest.raises(ApplicationError, match="cannot be a dataset name"):
        dataset_import_multiview(dataset_name="Bad Name", path=written.path)
    assert _counts() == (0, 0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_the_command_says_what_it_read(tmp_path, capsys):
    written = write_multiview(tmp_path, images="images")
    (tmp_path / "images").mkdir()
    call_command("import_dataset", str(written.path), dataset="ring", no_progress=True)
    out = capsys.readouterr().out
    assert "read the generic multi-view format: 3 frames, 18 views" in out
    assert "warning: 18 image files were not found under the image directory" in out
    assert Dataset.objects.get(name="ring").image_root == str((tmp_path / "images").resolve())
    with pytest.raises(CommandError, match="import failed, nothing was changed: .*unknown units"):
        call_command("import_dataset", str(written.path), dataset="ring2", rig=str(written.rig_path),
                     rig_units="inch", no_progress=True)  # fmt: skip


@pytest.mark.django_db
def test_correcting_a_keypoint_on_the_ring_retriangulates_from_six_views(tmp_path):
    """The editor's write path on another rig: drags in the views re-fit the point from all six."""
    from annotator import keypoints
    from annotator.services.annotations import correction_create
    from annotator.services.tasks import task_create
    from annotator.services.users import user_ensure

    written = write_multiview(tmp_path)
    dataset_import_multiview(dataset_name="ring", path=written.path)
    user, _ = user_ensure(username="ann", password="pw-ann-123", role="annotator")
    frame = Frame.objects.get(sequence__subject__name="S1", index=10)
    task = task_create(frame=frame, assignee=user)
    views = sorted(task.views.select_related("camera"), key=lambda v: v.camera.name)
    assert [v.camera.name for v in views] == list("ABCDEF")
    k = keypoints.index("left_wrist")
    moved = written.world[("S1", "Walking 1", 10)][k] + np.array([250.0, -150.0, 100.0])  # where it is, mm
    results = []
    for view in views:
        task.refresh_from_db()
        xy = geometry.project(view.camera.as_geometry(), moved)
        results.append(correction_create(task=task, user=user, view=view.pk, keypoint=k, x=float(xy[0]),
                                         y=float(xy[1]), base_revision=task.revision))  # fmt: skip
    # One view moved, five still at the dataset position: the point follows the corrected view, the others disagree.
    assert len(results[0].flagged_views) >= 3 and views[0].pk not in results[0].flagged_views
    # Moved in all six: the point is where the clicks say, every view agrees.
    np.testing.assert_allclose(results[-1].point_3d, moved, atol=1e-6)
    assert results[-1].flagged_views == []
    assert max(results[-1].residuals.values()) < 1e-6


@pytest.mark.django_db
class OtherLayoutImportTests:
    """A file names its layout: the dataset gets it, every list is checked against its K, and a dataset keeps one."""

    @pytest.mark.parametrize("name", ["coco-17", "coco-17/v1"])
    def test_a_coco17_file_makes_a_coco17_dataset(self, tmp_path, name):
        written = write_multiview(tmp_path, layout="coco-17")
        header, *lines = written.path.read_text().splitlines()
        head = json.loads(header)
        assert (head["layout"], head["keypoints"]) == ("coco-17/v1", 17)
        head["layout"] = name
        del head["keypoints"]  # optional: the layout gives the count
        written.path.write_text("\n".join([json.dumps(head), *lines]) + "\n")
        dataset_import_multiview(dataset_name="ring17", path=written.path)
        dataset = Dataset.objects.get(name="ring17")
        assert dataset.layout_version == "coco-17/v1"
        for key, X in written.world.items():
            np.testing.assert_allclose(_skeleton(key).keypoints, X, atol=1e-3)
        assert {v.keypoints_2d.shape for v in View.objects.all()} == {(17, 2)}

    def test_2d_triangulated_in_the_layout(self, tmp_path):
        written = write_multiview(tmp_path, layout="coco-17", with_3d=False)
        report = dataset_import_multiview(dataset_name="ring17", path=written.path)
        assert report.skeletons_triangulated == 3
        for key, X in written.world.items():
            np.testing.assert_allclose(_skeleton(key).keypoints, X, atol=0.05)

    def test_a_list_of_another_count_is_refused_naming_frame_view_and_field(self, tmp_path):
        def wholebody_2d(n, line):
            if n == 1:
                line["views"]["C"]["keypoints_2d"] = [[1.0, 2.0]] * 133
            return line

        written = write_multiview(tmp_path, layout="coco-17", edit=wholebody_2d)
        before = _counts()
        message = r"frame 2 \(S1 / Walking 1 / frame 15\) view 'C' keypoints_2d must be a list of 17 points .* got 133"
        with pytest.raises(ImportFormatError, match=message):
            dataset_import_multiview(dataset_name="ring17", path=written.path)
        assert _counts() == before

    def test_a_dataset_keeps_its_layout(self, tmp_path):
        dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "a").path)
        before = _counts()
        with pytest.raises(ImportFormatError, match="has the coco-wholebody-133/v1 layout, this file coco-17/v1"):
            dataset_import_multiview(dataset_name="ring", path=write_multiview(tmp_path / "b", layout="coco-17").path)
        assert _counts() == before
