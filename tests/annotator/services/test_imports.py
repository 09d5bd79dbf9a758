"""The H3WB importer: round trip, grouping, atomicity, idempotence and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotator import h3wb_format, h36m, keypoints
from annotator.exceptions import ImportFormatError
from annotator.models import Camera, Dataset, Detection2D, Frame, Skeleton3D, View
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import release_json, write_release

FRAMES = [("S1", "Directions 1", 125), ("S1", "Directions 1", 130), ("S5", "Walking 2", 5)]


def _counts():
    return (Dataset.objects.count(), Frame.objects.count(), View.objects.count(), Skeleton3D.objects.count())


@pytest.mark.django_db
class DatasetImportH3WBTests:
    def test_round_trip_recovers_world_coordinates(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES)
        report = dataset_import_h3wb(dataset_name="d", annotations=written.path)
        assert (report.samples, report.frames_created, report.views_created) == (12, 3, 12)
        assert report.max_disagreement_mm < 1e-9
        for (subject, action, index), X in written.world.items():
            frame = Frame.objects.get(sequence__subject__name=subject, sequence__action=action, index=index)
            skeleton = frame.skeletons.get(source=Skeleton3D.Source.DATASET)
            assert skeleton.version == 1
            np.testing.assert_allclose(skeleton.keypoints, X, atol=1e-9)
            assert skeleton.keypoints.shape == (keypoints.NUM_KEYPOINTS, 3)

    def test_views_carry_2d_bbox_sample_id_and_calibrated_cameras(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES[:1])
        dataset_import_h3wb(dataset_name="d", annotations=written.path)
        for view in View.objects.select_related("camera__subject"):
            sample = written.data[str(view.sample_id)]
            assert sample["image_path"] == view.image_path
            assert view.bbox == [sample["bbox"][k] for k in ("x_min", "y_min", "x_max", "y_max")]
            assert view.keypoints_2d[5, 0] == pytest.approx(sample["keypoints_2d"]["5"]["x"])
            cam = view.camera.as_geometry()
            ref = h36m.camera(view.camera.subject.name, view.camera.name)
            np.testing.assert_allclose(cam.P, ref.P)
            assert cam.model == "h36m"
        assert Camera.objects.count() == 4

    def test_views_are_grouped_by_image_path_not_by_order(self, tmp_path):
        data, world = release_json(FRAMES, np.random.default_rng(1))
        shuffled = list(data.values())
        np.random.default_rng(2).shuffle(shuffled)
        path = tmp_path / "shuffled.json"
        path.write_text(json.dumps({str(i): s for i, s in enumerate(shuffled)}))
        dataset_import_h3wb(dataset_name="d", annotations=path)
        assert Frame.objects.count() == 3
        for frame in Frame.objects.all():
            assert frame.views.count() == 4
            key = (frame.sequence.subject.name, frame.sequence.action, frame.index)
            np.testing.assert_allclose(frame.skeletons.get().keypoints, world[key], atol=1e-9)

    def test_reports_the_largest_disagreement_between_views(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES[:1])
        data = written.data
        data["2"]["keypoints_3d"]["7"]["x"] += 12.5
        written.path.write_text(json.dumps(data))
        report = dataset_import_h3wb(dataset_name="d", annotations=written.path)
        # One view off by 12.5 mm moves the mean by 12.5/4; that view sits 3/4 of 12.5 from it.
        assert report.max_disagreement_mm == pytest.approx(12.5 * 3 / 4, rel=1e-6)
        assert "S1 / Directions 1 / frame 125" in str(report)

    def test_importing_twice_adds_nothing(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES)
        dataset_import_h3wb(dataset_name="d", annotations=written.path)
        before = _counts()
        report = dataset_import_h3wb(dataset_name="d", annotations=written.path)
        assert _counts() == before
        assert (report.frames_created, report.frames_unchanged, report.views_created) == (0, 3, 0)

    def test_a_second_file_adds_only_its_new_frames(self, tmp_path):
        dataset_import_h3wb(dataset_name="d", annotations=write_release(tmp_path / "a.json", FRAMES[:2]).path)
        data, _ = release_json(FRAMES[:2], np.random.default_rng(0))
        more, _ = release_json([("S6", "Eating", 10)], np.random.default_rng(5))
        merged = {str(i): s for i, s in enumerate([*data.values(), *more.values()])}
        (tmp_path / "b.json").write_text(json.dumps(merged))
        report = dataset_import_h3wb(dataset_name="d", annotations=tmp_path / "b.json")
        assert (report.frames_created, report.frames_unchanged) == (1, 2)
        assert Frame.objects.count() == 3

    def test_changed_numbers_for_a_stored_frame_are_refused_and_nothing_changes(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES)
        dataset_import_h3wb(dataset_name="d", annotations=written.path)
        before = _counts()
        data = written.data
        for sid in ("0", "1", "2", "3"):
            data[sid]["keypoints_3d"]["0"]["z"] += 40.0
        data["12"] = release_json([("S8", "Posing", 1)], np.random.default_rng(3))[0]["0"]
        written.path.write_text(json.dumps(data))
        with pytest.raises(ImportFormatError, match="already in this dataset with a different dataset skeleton"):
            dataset_import_h3wb(dataset_name="d", annotations=written.path)
        assert _counts() == before

    def test_ground_truth_and_detection_side_files(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES[:1])
        gt_data, gt_world = release_json(FRAMES[:1], np.random.default_rng(9))
        gt = {sid: {"keypoints_3d": s["keypoints_3d"], "keypoints_2d": s["keypoints_2d"],
                    "visible": [1] * keypoints.NUM_KEYPOINTS} for sid, s in gt_data.items()}  # fmt: skip
        det = {sid: {"keypoints_2d": s["keypoints_2d"], "scores": [0.9] * keypoints.NUM_KEYPOINTS}
               for sid, s in written.data.items()}  # fmt: skip
        (tmp_path / "gt.json").write_text(json.dumps(gt))
        (tmp_path / "det.json").write_text(json.dumps(det))
        report = dataset_import_h3wb(
            dataset_name="d", annotations=written.path, ground_truth=tmp_path / "gt.json",
            detections=tmp_path / "det.json",
        )  # fmt: skip
        assert (report.ground_truth_created, report.detections_created) == (1, 4)
        frame = Frame.objects.get()
        gt_skeleton = frame.skeletons.get(source=Skeleton3D.Source.GROUND_TRUTH)
        assert gt_skeleton.version == 2
        np.testing.assert_allclose(gt_skeleton.keypoints, gt_world[FRAMES[0]], atol=1e-9)
        detection = Detection2D.objects.first()
        assert detection.scores.shape == (keypoints.NUM_KEYPOINTS,)

    def test_2d_from_an_aligned_2d_file(self, tmp_path):
        written = write_release(tmp_path / "rgb.json", FRAMES[:1], with_2d=False)
        full, _ = release_json(FRAMES[:1], np.random.default_rng(0))
        two_d = {sid: {"keypoints_2d": s["keypoints_2d"], "keypoints_3d": s["keypoints_3d"]} for sid, s in full.items()}
        (tmp_path / "2d.json").write_text(json.dumps(two_d))
        dataset_import_h3wb(dataset_name="d", annotations=written.path, keypoints_2d=tmp_path / "2d.json")
        view = View.objects.get(sample_id=0)
        assert view.keypoints_2d[0, 1] == pytest.approx(full["0"]["keypoints_2d"]["0"]["y"])

    def test_missing_images_are_counted(self, tmp_path):
        written = write_release(tmp_path / "rel.json", FRAMES[:1])
        images = tmp_path / "images"
        first = images / written.data["0"]["image_path"]
        first.parent.mkdir(parents=True)
        first.write_bytes(b"x")
        report = dataset_import_h3wb(dataset_name="d", annotations=written.path, images=images)
        assert report.missing_images == 3
        assert Dataset.objects.get().image_root == str(images.resolve())


def _break(data: dict, how: str) -> dict:
    if how == "missing joint":
        del data["1"]["keypoints_3d"]["57"]
    elif how == "nan":
        data["2"]["keypoints_2d"]["3"]["x"] = float("nan")  # json.dumps writes NaN, which is not JSON
    elif how == "overflow":
        data["2"]["keypoints_2d"]["3"]["x"] = 1e308 * 10  # written as Infinity: also not JSON
    elif how == "null coordinate":
        data["2"]["keypoints_3d"]["4"]["z"] = None
    elif how == "string coordinate":
        data["3"]["keypoints_3d"]["9"]["y"] = "12.5"
    elif how == "bad image path":
        data["1"]["image_path"] = "../../etc/passwd"
    elif how == "unknown subject":
        data["0"]["image_path"] = "S2/Images/Walking.54138969/frame_0001.jpg"
    elif how == "duplicate view":
        data["1"]["image_path"] = data["0"]["image_path"]
    elif how == "no 3d":
        for sample in data.values():
            del sample["keypoints_3d"]
    elif how == "true as coordinate":
        data["2"]["keypoints_3d"]["7"]["x"] = True
    elif how == "huge coordinate":
        data["1"]["keypoints_3d"]["0"]["y"] = 1e300
    elif how == "huge integer coordinate":
        data["1"]["keypoints_2d"]["5"]["x"] = 10**400
    elif how == "NUL in action":
        data["0"]["image_path"] = "S1/Images/Dir\x00ections.54138969/frame_0001.jpg"
    elif how == "300-character action":
        data["0"]["image_path"] = f"S1/Images/{'A' * 300}.54138969/frame_0001.jpg"
    elif how == "newline in path":
        data["1"]["image_path"] = "S1/Images/Directions 1.54138969/frame_0125.jpg\n"
    elif how == "true in bbox":
        data["3"]["bbox"]["y_min"] = True
    elif how == "23-digit sample id":
        data["12345678901234567890123"] = data.pop("3")
    elif how == "nested deep":
        data["2"]["keypoints_3d"]["4"]["z"] = "NESTED"
    elif how == "long number":
        data["1"]["keypoints_3d"]["4"]["z"] = "LONGNUMBER"
    elif how == "inverted bbox":
        data["2"]["bbox"]["x_max"] = -5
    return data


BROKEN = {
    "missing joint": r"sample 1: keypoints_3d must have joints .*missing \['57'\]",
    "nan": r"(?s)not valid JSON after sample 1: .*NaN",
    "overflow": r"(?s)not valid JSON after sample 1: .*Infinity",
    "null coordinate": r"sample 2: keypoints_3d\['4'\] must be an object with numeric x, y, z",
    "string coordinate": r"sample 3: keypoints_3d\['9'\] must be an object with numeric x, y, z",
    "bad image path": r"sample 1: image_path '../../etc/passwd' does not look like",
    "unknown subject": r"sample 0: subject S2 has no shipped calibration",
    "duplicate view": r"samples 0 and 1 are both S1 / Directions 1 / camera 54138969 / frame 125",
    "no 3d": r"not an H3WB file this tool knows: its samples have image_path and keypoints_2d but no keypoints_3d",
    # Issue 16 item 7: every field's type and range, named with its sample and field.
    "true as coordinate": r"sample 2: keypoints_3d\['7'\] must be an object with numeric x, y, z, got .*True",
    "huge coordinate": r"sample 1: keypoints_3d\['0'\] = .*1e\+300.* is not a finite number of at most 1e\+05 mm",
    "huge integer coordinate": r"(?s)not valid JSON after sample 0: parse error: integer overflow",
    "NUL in action": r"sample 0: image_path contains a control character \('\\x00' at position 13\)",
    "300-character action": r"sample 0: the action of image_path is 300 characters long; the limit is 100",
    "newline in path": r"sample 1: image_path contains a control character",
    "true in bbox": r"sample 3: bbox\['y_min'\] = True is not a number",
    "23-digit sample id": r"sample key '12345678901234567890123' is not a decimal sample id of at most 12 digits",
    "nested deep": r"bad.json: refused: nested deeper than 8 levels",
    "long number": r"bad.json: refused: a number, literal, string or run of blanks of 65536 bytes or more",
    "inverted bbox": r"sample 2: bbox has x_max < x_min",
}


@pytest.mark.django_db
@pytest.mark.parametrize("how", sorted(BROKEN))
def test_malformed_file_changes_nothing_and_names_sample_and_field(tmp_path, how):
    good = write_release(tmp_path / "good.json", [("S6", "Eating", 1)])
    dataset_import_h3wb(dataset_name="d", annotations=good.path)
    before = _counts()
    data, _ = release_json(FRAMES, np.random.default_rng(4))
    path = tmp_path / "bad.json"
    text = json.dumps(_break(data, how))
    # Values json cannot write: 100,000 levels of nesting (ijson alone would need gigabytes), a 200 kB number.
    text = text.replace('"NESTED"', "[" * 100_000 + "]" * 100_000).replace('"LONGNUMBER"', "1." + "1" * 200_000)
    path.write_text(text)
    with pytest.raises(ImportFormatError, match=BROKEN[how]):
        dataset_import_h3wb(dataset_name="d", annotations=path)
    assert _counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"0": {"image_path": "S1/Images/A.54138969/frame_0001.jpg", "keypoints_3d": {', "not valid JSON"),
        ("[1, 2, 3]", "must hold one JSON object keyed by sample id"),
        (
            '{"0": {"image_path": "S1/Images/A.54138969/frame_0001.jpg", "keypoints_3d": {"0": {"x": 1e999}}}}',
            r"not valid JSON: .*overflow",
        ),
        ("{}", "holds no samples"),
        ('{"abc": {}}', "sample key 'abc' is not a decimal sample id"),
    ],
)
def test_broken_json_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ImportFormatError, match=message):
        dataset_import_h3wb(dataset_name="d", annotations=path)
    assert _counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_lifting_file_without_images_imports_with_recovered_cameras(tmp_path):
    """2Dto3D_train.json alone: subject and camera come from each sample's own 2D and 3D, ids 4k..4k+3 are a frame."""
    data, world = release_json(FRAMES[:2], np.random.default_rng(0))
    path = tmp_path / "2Dto3D_train.json"
    path.write_text(json.dumps({sid: {"keypoints_2d": s["keypoints_2d"], "keypoints_3d": s["keypoints_3d"]}
                                for sid, s in data.items()}))  # fmt: skip
    report = dataset_import_h3wb(dataset_name="lift", annotations=path)
    assert "2D->3D training file" in report.kind and report.frames_created == 2 and report.views_created == 8
    dataset = Dataset.objects.get(name="lift")
    assert dataset.sample_ids == Dataset.SampleIds.TRAIN and dataset.keypoints_2d_convention == "distorted"
    for sid, sample in data.items():
        view = View.objects.select_related("camera", "frame__sequence__subject").get(sample_id=int(sid))
        truth = h3wb_format.parse_image_path(sample["image_path"])
        assert view.frame.sequence.subject.name == truth.subject
        assert view.camera.name == truth.camera_id and view.image_path == "" and view.frame.index == int(sid) // 4
    first = Skeleton3D.objects.get(frame__index=0, source="dataset")
    np.testing.assert_allclose(first.keypoints, world[FRAMES[0]], atol=1e-6)


@pytest.mark.django_db
def test_side_file_missing_a_sample_is_refused(tmp_path):
    written = write_release(tmp_path / "rel.json", FRAMES[:1])
    gt = {sid: {"keypoints_3d": s["keypoints_3d"]} for sid, s in written.data.items() if sid != "2"}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    with pytest.raises(ImportFormatError, match="ground-truth file gt.json: .*sample 2 is missing"):
        dataset_import_h3wb(dataset_name="d", annotations=written.path, ground_truth=tmp_path / "gt.json")
    assert _counts() == (0, 0, 0, 0)


@pytest.mark.django_db
class ImportCommandTests:
    def test_command_prints_the_report(self, tmp_path, capsys):
        written = write_release(tmp_path / "rel.json", FRAMES)
        call_command("import_h3wb", annotations=str(written.path), dataset="cmd", no_progress=True)
        out = capsys.readouterr().out
        assert "dataset cmd: 12 samples, 2 subjects (S1, S5)" in out
        assert "largest disagreement" in out

    def test_command_error_says_nothing_changed(self, tmp_path):
        with pytest.raises(CommandError, match="import failed, nothing was changed: .*no such file"):
            call_command("import_h3wb", annotations=str(tmp_path / "none.json"), dataset="cmd", no_progress=True)
        with pytest.raises(CommandError, match="image directory .* does not exist"):
            call_command("import_h3wb", annotations="x.json", images=str(tmp_path / "nope"), dataset="cmd")


@pytest.mark.django_db
class H3WBIntoAnotherLayoutTests:
    """H3WB files hold COCO-WholeBody keypoints: importing them into a COCO-17 dataset is refused, changing nothing."""

    def test_refused_by_the_service_and_the_command(self, tmp_path):
        from annotator.exceptions import NotApplicableError
        from annotator.services.multiview_imports import dataset_import_multiview
        from tests.multiview_files import write_multiview

        dataset_import_multiview(dataset_name="ring17", path=write_multiview(tmp_path / "mv", layout="coco-17").path)
        written = write_release(tmp_path / "rel.json", [("S1", "Walking 1", 10)])
        before = _counts()
        message = (
            "importing H3WB files into dataset ring17 applies to the COCO-WholeBody layout (coco-wholebody-133/v1) "
            "only; this data uses COCO-17 (coco-17/v1)"
        )
        with pytest.raises(NotApplicableError) as caught:
            dataset_import_h3wb(dataset_name="ring17", annotations=written.path)
        assert caught.value.message == message
        with pytest.raises(CommandError, match=r"importing H3WB files into dataset ring17 applies to the COCO-Whole"):
            call_command("import_h3wb", annotations=str(written.path), dataset="ring17", no_progress=True)
        assert _counts() == before
        # A new dataset of the same file is the whole body, as always.
        dataset_import_h3wb(dataset_name="fresh", annotations=written.path)
        assert Dataset.objects.get(name="fresh").layout is keypoints.DEFAULT_LAYOUT
