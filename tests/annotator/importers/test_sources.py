"""Every official H3WB file is recognised by its content and imported (or refused with what to do instead)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from annotator.exceptions import ImportFormatError
from annotator.importers.guarded_json import GuardedReader, JsonLimitError
from annotator.importers.sources import GROUP_ACTION, read_annotations
from annotator.models import Dataset, Frame, Skeleton3D, View
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_release import write_release

EXPECTED_KINDS = {
    "RGBto3D_train.json": "rgb-train",
    "2Dto3D_train.json": "lifting-train",
    "2Dto3D_train_part2.json": "lifting-train",
    "2Dto3D_test_2d.json": "lifting-test-2d",
    "2Dto3D_test_3d.json": "lifting-test-3d",
    "I2Dto3D_test_2d.json": "i2d-test-2d",
    "I2Dto3D_test_3d.json": "i2d-test-3d",
    "RGBto3D_test_img.json": "rgb-test-img",
    "RGBto3D_test_3d.json": "rgb-test-3d",
    "h3wb_train.npz": "npz-train",
    "task1_test_3d.npz": "npz-test",
    "task2_test_3d.npz": "npz-test",
}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("release"), seed=21)


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_kind_is_recognised_by_content(release, tmp_path, name):
    # Renamed, so that only the content can tell.
    source = release.path(name)
    anonymous = tmp_path / ("data" + source.suffix)
    anonymous.write_bytes(source.read_bytes())
    assert read_annotations(anonymous).kind.key == EXPECTED_KINDS[name]


@pytest.mark.django_db
class ImportEveryKindTests:
    def test_parts_keep_global_ids(self, release):
        report = dataset_import_h3wb(dataset_name="p", annotations=release.path("2Dto3D_train_part2.json"))
        fifth = len(release.train) // 5
        ids = sorted(View.objects.values_list("sample_id", flat=True))
        assert ids == list(range(fifth, 2 * fifth)) and "2D->3D training file" in report.kind
        assert set(Frame.objects.values_list("sequence__action", flat=True)) == {GROUP_ACTION}

    def test_test_inputs_with_their_answers_and_masked_keypoints(self, release):
        dataset_import_h3wb(dataset_name="i2d", annotations=release.path("I2Dto3D_test_3d.json"),
                            keypoints_2d=release.path("I2Dto3D_test_2d.json"))  # fmt: skip
        for sid, mask in release.masks.items():
            stored = View.objects.get(sample_id=sid).keypoints_2d
            assert np.isnan(stored[mask]).all() and np.isfinite(stored[~mask]).all()
        with pytest.raises(ImportFormatError, match="keypoints_2d only, no 3D and no image.*--keypoints-2d"):
            dataset_import_h3wb(dataset_name="x", annotations=release.path("2Dto3D_test_2d.json"))

    def test_rgb_test_images_are_frames_to_annotate_from_scratch(self, release):
        report = dataset_import_h3wb(dataset_name="img", annotations=release.path("RGBto3D_test_img.json"))
        assert report.views_created == len(release.test_rgb) and report.skeletons_created == 0
        assert not Skeleton3D.objects.exists() and View.objects.exclude(image_path="").count() == len(release.test_rgb)
        assert Dataset.objects.get(name="img").sample_ids == Dataset.SampleIds.RGB_TEST
        # The answers of the same images go into the same dataset: ids of one numbering.
        dataset_import_h3wb(dataset_name="img", annotations=release.path("RGBto3D_test_3d.json"))
        assert Skeleton3D.objects.count() == Frame.objects.count()

    def test_numberings_are_not_mixed(self, release):
        dataset_import_h3wb(dataset_name="mix", annotations=release.path("RGBto3D_test_3d.json"))
        with pytest.raises(ImportFormatError, match="keeps sample ids of the H3WB RGB->3D test set.*own"):
            dataset_import_h3wb(dataset_name="mix", annotations=release.path("2Dto3D_test_3d.json"))

    def test_predictions_are_not_a_dataset(self, release, tmp_path):
        path = tmp_path / "pred.json"
        data = json.loads(release.path("2Dto3D_test_3d.json").read_text())
        path.write_text(json.dumps({k: {"keypoints_3d": v["keypoints_3d"]} for k, v in data.items()}))
        with pytest.raises(ImportFormatError, match="a predictions file. Evaluate it with evaluate_predictions"):
            dataset_import_h3wb(dataset_name="x", annotations=path)

    def test_unknown_layout_names_what_is_missing(self, tmp_path):
        path = tmp_path / "other.json"
        path.write_text(json.dumps({"0": {"bbox": {"x_min": 0, "y_min": 0, "x_max": 1, "y_max": 1}}}))
        with pytest.raises(ImportFormatError, match="none of image_path, keypoints_2d, keypoints_3d"):
            dataset_import_h3wb(dataset_name="x", annotations=path)
        path.write_bytes(b"PK\x03\x04 not really a zip")
        with pytest.raises(ImportFormatError):
            dataset_import_h3wb(dataset_name="x", annotations=path)
        assert not Dataset.objects.exists()

    def test_command_says_which_kind_it_read(self, release, capsys):
        call_command("import_h3wb", "--annotations", str(release.path("task1_test_3d.npz")), "--dataset", "cmd",
                     "--no-progress")  # fmt: skip
        out = capsys.readouterr().out
        assert "read npz test set (task1_test_3d.npz, task2_test_3d.npz)" in out
        assert "2D convention: pinhole" in out
        with pytest.raises(CommandError, match="nothing was changed: .*keypoints_2d only"):
            call_command("import_h3wb", "--annotations", str(release.path("I2Dto3D_test_2d.json")), "--dataset",
                         "cmd2", "--no-progress")  # fmt: skip


class GuardTests:
    """The JSON guard: exact string and escape tracking across chunk boundaries, depth and size limits."""

    @staticmethod
    def _depth_ok(text: str, depth: int, chunk: int) -> bool:
        reader = GuardedReader(io.BytesIO(text.encode()), max_depth=depth)
        try:
            while reader.read(chunk):
                pass
        except JsonLimitError:
            return False
        return True

    @pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096])
    def test_brackets_in_strings_and_escapes_do_not_nest(self, chunk):
        text = json.dumps({'a\\"[[[[': {"b": ["\\\\", 'x\\"{{{{', [1, {"c": "]]]]\\\\"}]]}})
        assert self._depth_ok(text, 5, chunk) and not self._depth_ok(text, 4, chunk)

    def test_a_sample_with_too_many_items_is_refused(self):
        text = json.dumps({"0": {"k": ["x"] * 40_000}})
        with pytest.raises(JsonLimitError, match="one item with more than 65536 structural characters"):
            reader = GuardedReader(io.BytesIO(text.encode()))
            while reader.read(1 << 16):
                pass


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["h3wb_train.npz", "2Dto3D_train.json", "RGBto3D_test_img.json"])
def test_every_kind_is_idempotent(release, name):
    first = dataset_import_h3wb(dataset_name="again", annotations=release.path(name))
    counts = (Frame.objects.count(), View.objects.count(), Skeleton3D.objects.count())
    second = dataset_import_h3wb(dataset_name="again", annotations=release.path(name))
    assert (Frame.objects.count(), View.objects.count(), Skeleton3D.objects.count()) == counts
    assert second.frames_created == 0 and second.frames_unchanged == first.frames_created


@pytest.mark.django_db
def test_frames_without_skeletons_are_served(release, users):
    """RGBto3D_test_img.json gives frames with images but no 3D: the dataset pages and API answer, and a task on
    such a frame is refused with a reason (the editor needs a skeleton to start from)."""
    from django.test import Client
    from rest_framework.test import APIClient

    from annotator.exceptions import ApplicationError
    from annotator.services.tasks import task_create

    dataset_import_h3wb(dataset_name="img-only", annotations=release.path("RGBto3D_test_img.json"))
    api = APIClient()
    api.force_authenticate(users["reviewer"])
    assert api.get("/api/datasets/").status_code == 200
    assert api.get("/api/datasets/img-only/").status_code == 200
    page = Client()
    page.force_login(users["reviewer"])
    assert page.get("/").status_code == 200 and page.get("/datasets/img-only/").status_code == 200
    with pytest.raises(ApplicationError, match="has no dataset skeleton to correct"):
        task_create(frame=Frame.objects.first(), assignee=users["annotator"], created_by=users["reviewer"])

    def test_a_sample_of_many_megabytes_is_refused(self):
        text = json.dumps({"0": {"k": ["1." + "1" * 60_000 for _ in range(120)]}})  # 7 MB, few structural bytes
        with pytest.raises(JsonLimitError, match="one item larger than 4 MB"):
            reader = GuardedReader(io.BytesIO(text.encode()))
            while reader.read(1 << 20):
                pass
