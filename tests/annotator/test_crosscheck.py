"""The cross-check math on hand-built studies: known displacements in, known tables out (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator import crosscheck, geometry, h36m, keypoints

J = keypoints.NUM_KEYPOINTS
#: A person about 5 m in front of the Human3.6M cameras (world mm, z up).
CENTRE = np.array([0.0, 0.0, 900.0])


def make_data(T: int = 4, *, shift=None, truth_shift=None, items=None, annotators=None, seed: int = 0,
              layout=keypoints.DEFAULT_LAYOUT):  # fmt: skip
    """T tasks on one S1 frame, all four views each; result = base + shift, truth = base - truth_shift."""
    rng = np.random.default_rng(seed)
    K = layout.num_keypoints
    base = np.repeat(CENTRE + rng.normal(0.0, 300.0, size=(1, K, 3)), T, axis=0)  # one frame
    shift = np.zeros((T, K, 3)) if shift is None else np.broadcast_to(shift, (T, K, 3))
    truth = np.full((T, K, 3), np.nan) if truth_shift is None else base - truth_shift
    cams = list(h36m.rig("S1").values())
    row_task = np.repeat(np.arange(T), len(cams))
    row_camera = np.tile(np.arange(len(cams)), T)
    return crosscheck.StudyData(
        base=base,
        result=base + shift,
        truth=truth,
        item=np.arange(T) if items is None else np.asarray(items),
        annotator=np.zeros(T, dtype=np.intp) if annotators is None else np.asarray(annotators),
        honeypot=np.zeros(T, dtype=bool),
        row_task=row_task,
        row_camera=row_camera,
        row_scale=np.full(len(row_task), 400.0),
        cameras=cams,
        camera_names=[c.name for c in cams],
        annotator_names=["a", "b"],
        task_ids=list(range(100, 100 + T)),
        frame_ids=[1] * T,
        frame_labels=["S1 · Walking 1 · 10"] * T,
        statuses=["submitted"] * T,
        layout=layout,
    )


class CrossCheckPartTableTests:
    def test_a_uniform_shift_gives_its_length_in_every_part(self):
        data = make_data(shift=np.array([3.0, 4.0, 0.0]))  # 5 mm everywhere
        report = crosscheck.study_report(data)
        for part in keypoints.METRIC_PART_NAMES:
            row = report["parts"][part]
            assert row["mean_3d_mm"] == pytest.approx(5.0)
            assert row["median_3d_mm"] == pytest.approx(5.0)
            assert row["p90_3d_mm"] == pytest.approx(5.0)
            assert row["n_keypoints"] == 4 * len(keypoints.METRIC_PARTS[part])
            assert row["fraction_corrected"] == pytest.approx(1.0)

    def test_2d_error_is_the_distance_between_the_projections(self):
        data = make_data(T=2, shift=np.array([10.0, -5.0, 2.0]))
        err = crosscheck.compute_errors(data)
        assert err.e2.shape == (8, J)
        cam = data.cameras[2]
        expected = np.linalg.norm(geometry.project(cam, data.result[1]) - geometry.project(cam, data.base[1]), axis=-1)
        np.testing.assert_allclose(err.e2[1 * 4 + 2], expected)
        report = crosscheck.study_report(data)
        assert report["parts"]["all"]["mean_2d_px"] == pytest.approx(float(err.e2.mean()), rel=1e-4)

    def test_only_moved_keypoints_count_as_corrected(self):
        shift = np.zeros((J, 3))
        shift[keypoints.METRIC_PARTS["face"], 0] = 12.0
        report = crosscheck.study_report(make_data(shift=shift))
        assert report["parts"]["face"]["fraction_corrected"] == pytest.approx(1.0)
        assert report["parts"]["body"]["fraction_corrected"] == 0.0
        assert report["parts"]["face"]["mean_3d_mm"] == pytest.approx(12.0)
        assert report["parts"]["hand"]["mean_3d_mm"] == 0.0
        assert report["fraction_corrected"] == pytest.approx(len(keypoints.METRIC_PARTS["face"]) / J, abs=1e-4)
        per_keypoint = report["keypoints"]["mean_3d_mm"]
        assert per_keypoint[int(keypoints.METRIC_PARTS["face"][0])] == pytest.approx(12.0)
        assert per_keypoint[keypoints.NOSE] == 0.0

    def test_missing_keypoints_are_left_out(self):
        data = make_data(shift=np.array([0.0, 0.0, 7.0]))
        data.result[:, keypoints.NOSE] = np.nan
        row = crosscheck.study_report(data)["parts"]["all"]
        assert row["n_keypoints"] == 4 * (J - 1)
        assert row["mean_3d_mm"] == pytest.approx(7.0)

    def test_the_published_table_is_h3wbs(self):
        report = crosscheck.study_report(make_data())
        assert report["published"]["all"] == {"mean_2d_px": 4.57, "mean_3d_mm": 16.98}
        assert report["published"]["hand"]["mean_3d_mm"] == 19.16


class CrossCheckHistogramTests:
    def test_counts_add_up_to_the_keypoints(self):
        rng = np.random.default_rng(1)
        shift = rng.normal(0.0, 12.0, size=(6, J, 3))
        report = crosscheck.study_report(make_data(T=6, shift=shift))
        h = report["histograms"]
        assert h["bin_edges_mm"][0] == 0.0 and h["bin_edges_mm"][-1] == crosscheck.HIST_MAX_MM
        for part, index in keypoints.METRIC_PARTS.items():
            assert sum(h["counts"][part]) + h["overflow"][part] == 6 * len(index)

    def test_the_band_fraction(self):
        report = crosscheck.study_report(make_data(shift=np.array([15.0, 0.0, 0.0])))
        assert report["parts"]["all"]["fraction_in_band"] == 1.0
        report = crosscheck.study_report(make_data(shift=np.array([25.0, 0.0, 0.0])))
        assert report["parts"]["all"]["fraction_in_band"] == 0.0


class CrossCheckGroupTests:
    def test_per_camera_and_per_annotator(self):
        shift = np.zeros((4, J, 3))
        shift[2:] = 10.0  # tasks of annotator b moved everything
        data = make_data(shift=shift, annotators=[0, 0, 1, 1])
        report = crosscheck.study_report(data)
        assert [c["camera"] for c in report["cameras"]] == sorted(h36m.CAMERA_IDS)
        assert all(c["n_views"] == 4 for c in report["cameras"])
        by_name = {a["annotator"]: a for a in report["annotators"]}
        assert by_name["a"]["mean_3d_mm"] == 0.0
        assert by_name["b"]["mean_3d_mm"] == pytest.approx(np.sqrt(300.0))
        assert by_name["b"]["fraction_corrected"] == 1.0


class CrossCheckAgreementTests:
    def test_no_shared_item_means_no_agreement(self):
        assert crosscheck.study_report(make_data())["agreement"] is None

    def test_two_annotators_on_one_item(self):
        d = 6.0
        shift = np.zeros((2, J, 3))
        shift[0, :, 0], shift[1, :, 0] = d, -d
        data = make_data(T=2, shift=shift, items=[0, 0], annotators=[0, 1])
        ag = crosscheck.study_report(data)["agreement"]
        assert ag["n_items"] == 1
        # Two points at +-d from their mean: sum of squares 2 d^2 over n - 1 = 1 degree of freedom.
        np.testing.assert_allclose(ag["spread_3d_mm"], np.sqrt(2) * d, atol=1e-3)
        spread2 = np.asarray(ag["spread_2d_px"], dtype=float)
        sigmas = np.asarray(ag["derived_sigmas"], dtype=float)
        np.testing.assert_allclose(sigmas, spread2 / 400.0, rtol=1e-3)
        assert ag["published_sigmas"] == pytest.approx(keypoints.SIGMAS.tolist(), abs=1e-4)


class CrossCheckGroundTruthTests:
    def test_the_true_error_beside_the_measured_one(self):
        # The dataset is 8 mm off; the annotators moved it 6 mm back towards the truth.
        data = make_data(shift=np.array([6.0, 0.0, 0.0]), truth_shift=np.array([-8.0, 0.0, 0.0]))
        gt = crosscheck.study_report(data)["ground_truth"]
        assert gt["n_tasks"] == 4
        for part in keypoints.METRIC_PART_NAMES:
            assert gt[part]["mean_3d_mm"] == pytest.approx(8.0)
            assert gt[part]["measured_3d_mm"] == pytest.approx(6.0)
            assert gt[part]["measured_over_true"] == pytest.approx(0.75)
            assert gt[part]["residual_3d_mm"] == pytest.approx(2.0)

    def test_unknown_truth_gives_none(self):
        assert crosscheck.study_report(make_data())["ground_truth"] is None


class CrossCheckFrameRowsTests:
    def setup_method(self):
        shift = np.zeros((4, J, 3))
        shift[:, :, 0] = np.array([3.0, 9.0, 1.0, 5.0])[:, None]
        shift[3, keypoints.NOSE, 0] = 50.0
        self.data = make_data(shift=shift, annotators=[0, 1, 0, 1])
        self.err = crosscheck.compute_errors(self.data)

    def test_worst_first(self):
        rows = crosscheck.frame_rows(self.data, self.err)
        assert [r["task"] for r in rows] == [101, 103, 100, 102]
        assert rows[0]["cameras"] == sorted(h36m.CAMERA_IDS)
        assert rows[-1]["error_3d_mm"]["all"] == pytest.approx(1.0)

    def test_best_first_and_by_task(self):
        assert [r["task"] for r in crosscheck.frame_rows(self.data, self.err, sort="best")][0] == 102
        assert [r["task"] for r in crosscheck.frame_rows(self.data, self.err, sort="task")] == [100, 101, 102, 103]

    def test_filters(self):
        rows = crosscheck.frame_rows(self.data, self.err, annotator="a")
        assert {r["task"] for r in rows} == {100, 102}
        rows = crosscheck.frame_rows(self.data, self.err, camera=h36m.CAMERA_IDS[0])
        assert len(rows) == 4
        assert crosscheck.frame_rows(self.data, self.err, camera="no-such-camera") == []
        assert crosscheck.frame_rows(self.data, self.err, annotator="nobody") == []

    def test_sort_by_one_keypoint(self):
        rows = crosscheck.frame_rows(self.data, self.err, keypoint=keypoints.NOSE)
        assert rows[0]["task"] == 103 and rows[0]["sort_error"] == pytest.approx(50.0)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="sort"):
            crosscheck.frame_rows(self.data, self.err, sort="random")
        with pytest.raises(ValueError, match="part"):
            crosscheck.frame_rows(self.data, self.err, part="tail")


class CrossCheckShapeTests:
    def test_wrong_skeleton_shape_is_refused(self):
        data = make_data()
        with pytest.raises(ValueError, match="base must have shape"):
            crosscheck.StudyData(**{**data.__dict__, "base": data.base[:, :5]})

    def test_empty_study(self):
        data = make_data(T=0)
        report = crosscheck.study_report(data)
        assert report["n_tasks"] == 0
        assert report["parts"]["all"]["mean_3d_mm"] is None
        assert report["agreement"] is None and report["ground_truth"] is None


class CrossCheckHandWorkedTableTests:
    """A study whose means, medians and 90th percentiles were worked out by hand, not by the code under test.

    One pinhole camera (f = 1000 px, no distortion) looks down its z axis at a person 5 m away; every
    correction moves a keypoint along x only, so a d mm move is exactly 1000 * d / 5000 = 0.2 d px.
    Three tasks move the keypoints by (mm):

    ==========  ======  ======  ======
    part        task 0  task 1  task 2
    ==========  ======  ======  ======
    body+feet   3       3       30
    face        2       2       2
    hands       1       10      1
    ==========  ======  ======  ======

    Worked by hand (numpy's linear percentile: p90 of n sorted values is the value at index 0.9 (n - 1)):

    - body, 69 values (46 x 3, 23 x 30): mean 828 / 69 = 12, median 3, p90 index 61.2 -> 30.
    - hand, 126 values (84 x 1, 42 x 10): mean 504 / 126 = 4, median 1, p90 index 112.5 -> 10.
    - all, 399 values (84 x 1, 204 x 2, 46 x 3, 42 x 10, 23 x 30): mean 1740 / 399, median (index 199,
      inside the 2s at 84..287) 2, p90 (index 358.2, inside the 10s at 334..375) 10.
    The mean alone would give 12 / 4 / 4.36 in all three columns.
    """

    SHIFTS_MM = {"body": (3.0, 3.0, 30.0), "face": (2.0, 2.0, 2.0), "hand": (1.0, 10.0, 1.0)}
    EXPECTED_MM = {  # part: (mean, median, p90)
        "body": (12.0, 3.0, 30.0),
        "face": (2.0, 2.0, 2.0),
        "hand": (4.0, 1.0, 10.0),
        "all": (1740.0 / 399.0, 2.0, 10.0),
    }
    PX_PER_MM = 1000.0 / 5000.0

    def _data(self) -> crosscheck.StudyData:
        T = 3
        rng = np.random.default_rng(1)
        person = np.column_stack([rng.uniform(-500, 500, J), rng.uniform(-800, 800, J), np.full(J, 5000.0)])
        base = np.repeat(person[None], T, axis=0)
        shift = np.zeros((T, J, 3))
        for part, per_task in self.SHIFTS_MM.items():
            shift[:, keypoints.METRIC_PARTS[part], 0] = np.asarray(per_task)[:, None]
        cam = geometry.Camera(K=np.array([[1000.0, 0, 500], [0, 1000.0, 500], [0, 0, 1]]), R=np.eye(3),
                              t=np.zeros(3), size=(1000, 1000), name="pinhole")  # fmt: skip
        return crosscheck.StudyData(
            base=base, result=base + shift, truth=np.full((T, J, 3), np.nan), item=np.arange(T),
            annotator=np.zeros(T, dtype=np.intp), honeypot=np.zeros(T, dtype=bool), row_task=np.arange(T),
            row_camera=np.zeros(T, dtype=np.intp), row_scale=np.full(T, 400.0), cameras=[cam],
            camera_names=["pinhole"], annotator_names=["a"],
        )  # fmt: skip

    def test_mean_median_and_p90_per_part_in_mm_and_px(self):
        parts = crosscheck.study_report(self._data())["parts"]
        for part, (mean, median, p90) in self.EXPECTED_MM.items():
            row = parts[part]
            assert (row["mean_3d_mm"], row["median_3d_mm"], row["p90_3d_mm"]) == pytest.approx(
                (mean, median, p90), abs=1e-6
            ), part
            assert (row["mean_2d_px"], row["median_2d_px"], row["p90_2d_px"]) == pytest.approx(
                (mean * self.PX_PER_MM, median * self.PX_PER_MM, p90 * self.PX_PER_MM), abs=1e-6
            ), part

    def test_the_histogram_counts_each_value_in_its_bin(self):
        hist = crosscheck.study_report(self._data())["histograms"]
        counts = dict(zip(hist["bin_edges_mm"], hist["counts"]["all"]))
        # 2.5 mm bins: 1 and 2 mm in [0, 2.5), 3 in [2.5, 5), 10 in [10, 12.5), 30 in [30, 32.5).
        assert (counts[0.0], counts[2.5], counts[10.0], counts[30.0]) == (84 + 204, 46, 42, 23)
        assert sum(hist["counts"]["all"]) == 399 and hist["overflow"]["all"] == 0


class CrossCheckOtherLayoutTests:
    """A COCO-17 study: the tables group by the layout's metric parts and nothing reads COCO-WholeBody's 133."""

    COCO17 = keypoints.layout_get("coco-17")

    def test_a_coco17_study_report_by_hand(self):
        layout = self.COCO17
        shift = np.zeros((17, 3))
        shift[layout.index("left_wrist")] = [0.0, 6.0, 8.0]  # 10 mm, one keypoint of 17
        data = make_data(T=2, shift=shift, truth_shift=np.array([0.0, 0.0, 4.0]), items=[0, 0], annotators=[0, 1],
                         layout=layout)  # fmt: skip
        report = crosscheck.study_report(data)
        assert report["layout"]["version"] == "coco-17/v1"
        assert [p["name"] for p in report["layout"]["metric_parts"]] == ["all", "body"]
        assert set(report["parts"]) == {"all", "body"}
        for part in ("all", "body"):
            row = report["parts"][part]
            # 34 values: two 10s and 32 zeros; median 0, p90 at index 29.7 between two zeros: 0.
            assert (row["mean_3d_mm"], row["median_3d_mm"], row["p90_3d_mm"]) == pytest.approx((20 / 34, 0.0, 0.0))
            assert row["n_keypoints"] == 34 and row["fraction_corrected"] == pytest.approx(1 / 17, abs=1e-6)
        assert report["published"] == {} and "COCO-17" in report["published_note"]
        assert report["keypoints"]["names"] == list(layout.names) and report["keypoints"]["part_of"] == ["body"] * 17
        assert report["keypoints"]["mean_3d_mm"][layout.index("left_wrist")] == pytest.approx(10.0)
        assert set(report["histograms"]["counts"]) == {"all", "body"}
        gt = report["ground_truth"]
        assert gt["all"]["mean_3d_mm"] == pytest.approx(4.0) and gt["body"]["measured_3d_mm"] == pytest.approx(10 / 17)
        agreement = report["agreement"]
        assert len(agreement["published_sigmas"]) == 17
        assert agreement["parts"]["all"]["published_sigma"] == pytest.approx(float(layout.sigmas.mean()), abs=1e-6)
        assert set(report["instrument"]["bias"]["parts"]) == {"all", "body"}

    def test_frame_rows_take_the_layouts_parts(self):
        data = make_data(T=2, shift=np.array([1.0, 0.0, 0.0]), layout=self.COCO17)
        rows = crosscheck.frame_rows(data, crosscheck.compute_errors(data), part="body")
        assert [set(r["error_3d_mm"]) for r in rows] == [{"all", "body"}] * 2
        with pytest.raises(ValueError, match=r"part must be one of \('all', 'body'\) \(COCO-17\)"):
            crosscheck.frame_rows(data, crosscheck.compute_errors(data), part="face")
        with pytest.raises(ValueError, match="keypoint must be 0..16"):
            crosscheck.frame_rows(data, crosscheck.compute_errors(data), keypoint=20)

    def test_a_skeleton_of_another_layout_is_refused(self):
        with pytest.raises(ValueError, match=r"base must have shape \(4, 17, 3\)"):
            make_data(layout=self.COCO17).__class__(**{**vars(make_data()), "layout": self.COCO17})
