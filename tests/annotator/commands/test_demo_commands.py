"""make_demo (generate, import through the one import path, users) and lift_multiview on its output."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator import roles
from annotator.models import Dataset, Detection2D, Frame, Skeleton3D

DEMO = {"subjects": "S1", "frames": 3, "workers": 1, "dataset": "tiny-demo"}


@pytest.fixture
def demo(db, capsys):
    call_command("make_demo", **DEMO)
    return capsys.readouterr().out


class MakeDemoTests:
    def test_generates_imports_and_creates_accounts(self, demo):
        dataset = Dataset.objects.get(name="tiny-demo")
        assert dataset.source_format == "synthetic"
        assert Frame.objects.filter(sequence__subject__dataset=dataset).count() == 3
        assert Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH).count() == 3
        assert Skeleton3D.objects.filter(source=Skeleton3D.Source.DATASET).count() == 3
        assert Detection2D.objects.count() == 12
        assert "dataset error vs ground truth (mm): all" in demo
        User = get_user_model()
        got = {u.username: roles.user_role(u) for u in User.objects.all()}
        assert got == {"annotator1": "annotator", "annotator2": "annotator", "reviewer": "reviewer", "admin": "admin"}
        assert User.objects.get(username="reviewer").check_password("demo-reviewer")

    def test_second_run_reuses_the_cache_and_adds_nothing(self, demo, capsys):
        counts = (Frame.objects.count(), Skeleton3D.objects.count(), get_user_model().objects.count())
        call_command("make_demo", **DEMO)
        out = capsys.readouterr().out
        assert "using the cached synthetic rig" in out
        assert "password unchanged" in out
        assert (Frame.objects.count(), Skeleton3D.objects.count(), get_user_model().objects.count()) == counts

    def test_lift_multiview_reports_h3wb_statistics(self, demo, capsys):
        call_command("lift_multiview", dataset="tiny-demo", no_progress=True)
        out = capsys.readouterr().out
        assert "lifted 3 frames" in out
        assert "complete in all keypoints" in out and "mean 3D error vs ground truth" in out
        assert Skeleton3D.objects.filter(source=Skeleton3D.Source.TRIANGULATED).count() == 3
        call_command("lift_multiview", dataset="tiny-demo", no_progress=True)
        assert "0 new triangulated skeletons, 3 frames already had one" in capsys.readouterr().out
        assert Skeleton3D.objects.filter(source=Skeleton3D.Source.TRIANGULATED).count() == 3


def test_the_demo_knows_the_generator_s_rigs():
    from annotator.management.commands.make_demo import RIGS
    from fixtures.synthetic.rigs import RIG_NAMES

    assert RIGS == RIG_NAMES


@pytest.mark.django_db
def test_the_ring_demo_goes_through_the_generic_importer(capsys):
    """``--rig ring6``: the same people on six cameras around them, written as the generic format with an Anipose
    calibration, imported by import_dataset's service; the rig's geometry lifts them from their detections."""
    call_command("make_demo", subjects="S1", frames=2, workers=1, rig="ring6", no_users=True)
    out = capsys.readouterr().out
    dataset = Dataset.objects.get(name="synthetic-ring6")
    assert (dataset.source_format, dataset.rig_format) == ("multiview", "anipose")
    assert "6-camera rig (Anipose calibration.toml from calibration.toml): cameras A, B, C, D, E, F" in out
    assert "created 2 frames, 12 views, 2 dataset skeletons" in out
    assert Skeleton3D.objects.filter(source=Skeleton3D.Source.GROUND_TRUTH).count() == 2
    assert Detection2D.objects.count() == 12
    call_command("lift_multiview", dataset="synthetic-ring6", no_progress=True)
    assert "lifted 2 frames" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_ring_demo_in_the_coco17_layout(capsys):
    """``--rig ring6 --layout coco-17``: the same people with the 17 COCO body keypoints (the first 17 of
    COCO-WholeBody's body, matched by name), a dataset of that layout whose tasks the editor serves."""
    from annotator import keypoints
    from fixtures.synthetic.dataset import layout_indices

    np.testing.assert_array_equal(layout_indices(keypoints.layout_get("coco-17")), np.arange(17))
    call_command("make_demo", subjects="S1", frames=2, workers=1, rig="ring6", layout="coco-17")
    out = capsys.readouterr().out
    dataset = Dataset.objects.get(name="synthetic-ring6-coco-17")
    assert dataset.layout_version == "coco-17/v1"
    assert "dataset error vs ground truth (mm): all " in out and "face" not in out.split("dataset error")[1][:80]
    assert {s.keypoints.shape for s in Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset)} == {
        (17, 3)
    }
    assert "annotator1: 2 new correction tasks" in out
    # The ring's detections lift in the dataset's layout, and the error is reported over its keypoints only.
    call_command("lift_multiview", dataset="synthetic-ring6-coco-17", no_progress=True)
    out = capsys.readouterr().out
    assert "lifted 2 frames" in out and "face" not in out
    lifted = Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset, source=Skeleton3D.Source.TRIANGULATED)
    assert [s.keypoints.shape for s in lifted] == [(17, 3), (17, 3)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subjects": "S1,S42"}, "--subjects must be a comma list"),
        ({"frames": 0}, "--frames must be at least 1"),
        ({"seed": -1}, "--seed must be a non-negative integer"),
        ({"rig": "ring7"}, "--rig must be one of h36m, ring6; got 'ring7'"),
        ({"layout": "coco-18"}, "--layout: unknown keypoint layout 'coco-18'; known: coco-wholebody-133/v1"),
        ({"layout": "coco-17"}, "--layout coco-17 needs another rig .* COCO-WholeBody keypoints only"),
        ({"layout": "h36m-17", "rig": "ring6"}, "cannot be written in the Human3.6M-17 layout .* root, right_foot"),
    ],
)
def test_make_demo_bad_arguments(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("make_demo", **{**DEMO, **options})
    assert Dataset.objects.count() == 0


@pytest.mark.django_db
def test_lift_multiview_errors(tmp_path):
    with pytest.raises(CommandError, match="no dataset named 'nope'"):
        call_command("lift_multiview", dataset="nope")
    from annotator.services.imports import dataset_import_h3wb
    from tests.h3wb_files import write_release

    dataset_import_h3wb(dataset_name="plain", annotations=write_release(tmp_path / "r.json", [("S1", "A", 1)]).path)
    with pytest.raises(CommandError, match="has no 2D detections to lift"):
        call_command("lift_multiview", dataset="plain")
