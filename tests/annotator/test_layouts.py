"""Layouts as values: every preset is self-consistent, the presets match their public sources, the
default is exactly the layout the module-level names described before layouts were values, and bad
layouts or names are refused with a clear message."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest
from pycocotools.cocoeval import Params

from annotator import keypoints as kp

PRESETS = list(kp.LAYOUTS.values())


def _ids(layout):
    return layout.version


@pytest.mark.parametrize("layout", PRESETS, ids=_ids)
class TestPresetConsistency:
    def test_names_are_unique_and_counted(self, layout):
        assert layout.num_keypoints == len(layout.names) == len(set(layout.names)) > 0
        assert all(layout.index(name) == i for i, name in enumerate(layout.names))

    def test_parts_cover_every_keypoint_exactly_once(self, layout):
        covered = np.sort(np.concatenate([layout.parts[p] for p in layout.part_names]))
        np.testing.assert_array_equal(covered, np.arange(layout.num_keypoints))
        for p, sl in layout.part_slices.items():
            np.testing.assert_array_equal(np.arange(layout.num_keypoints)[sl], layout.parts[p])
        assert np.bincount(layout.part_of, minlength=len(layout.part_names)).sum() == layout.num_keypoints
        assert set(layout.focus_parts) <= set(layout.part_names)
        assert set(layout.validity_parts) <= set(layout.part_names)
        np.testing.assert_array_equal(layout.metric_parts["all"], np.arange(layout.num_keypoints))

    def test_parents_form_one_tree(self, layout):
        parents = layout.parents
        assert parents.shape == (layout.num_keypoints,)
        assert int((parents < 0).sum()) == 1
        for j in range(layout.num_keypoints):
            seen, node = set(), j
            while node >= 0:
                assert node not in seen, f"cycle through {layout.names[node]}"
                seen.add(node)
                node = int(parents[node])
        bones = layout.bones()
        assert len(bones) == layout.num_keypoints - 1
        np.testing.assert_array_equal(parents[bones[:, 1]], bones[:, 0])

    def test_links_index_valid_keypoints_and_have_colours(self, layout):
        assert layout.links
        for link in layout.links:
            assert 0 <= link.a < layout.num_keypoints and 0 <= link.b < layout.num_keypoints and link.a != link.b
            assert link.part in layout.part_colors
        assert set(layout.part_names) <= set(layout.part_colors)

    def test_flip_is_an_involution_that_maps_left_names_to_right_names(self, layout):
        flip = layout.flip_index
        np.testing.assert_array_equal(flip[flip], np.arange(layout.num_keypoints))
        for i, name in enumerate(layout.names):
            for side, other in (("left_", "right_"), ("right_", "left_")):
                if name.startswith(side):
                    assert layout.names[flip[i]] == other + name[len(side) :], name
        sided = sum(name.startswith(("left_", "right_")) for name in layout.names)
        assert sided and sided % 2 == 0
        for a, b in layout.flip_pairs:
            assert a < b and flip[a] == b and flip[b] == a

    def test_sigmas_are_positive_one_per_keypoint(self, layout):
        assert layout.sigmas.shape == (layout.num_keypoints,)
        assert np.all(np.isfinite(layout.sigmas)) and np.all(layout.sigmas > 0)

    def test_anchors_name_keypoints_of_the_layout(self, layout):
        anchors = dataclasses.asdict(layout.anchors)
        assert layout.anchors.pelvis
        for key, value in anchors.items():
            for j in value if isinstance(value, tuple) else [value]:
                assert j is None or 0 <= j < layout.num_keypoints, key
        if layout.anchors.nose is not None:
            assert layout.names[layout.anchors.nose] == "nose"
        for side in ("left", "right"):
            wrist = getattr(layout.anchors, f"{side}_wrist")
            assert layout.names[wrist] == f"{side}_wrist"

    def test_arrays_cannot_be_changed_in_place(self, layout):
        for array in (layout.parents, layout.flip_index, layout.sigmas, layout.part_of, *layout.parts.values()):
            with pytest.raises(ValueError, match="read-only"):
                array[0] = array[0]
        with pytest.raises(dataclasses.FrozenInstanceError):
            layout.names = ()

    def test_json_for_the_browser_is_plain_and_consistent(self, layout):
        data = json.loads(json.dumps(layout.to_json()))
        assert set(data) == set(kp.layout_json())
        assert data["version"] == layout.version and data["num_keypoints"] == layout.num_keypoints
        assert len(data["names"]) == len(data["labels"]) == len(data["part_of"]) == len(data["parents"])
        assert sum(stop - start for start, stop in data["parts"].values()) == layout.num_keypoints
        assert set(data["part_of"]) == set(data["parts"]) <= set(data["colors"])

    def test_registry_finds_it_by_version_and_by_name(self, layout):
        assert kp.layout_get(layout.version) is layout
        assert kp.layout_get(layout.name) is layout


class TestCoco17:
    layout = kp.layout_get("coco-17")

    def test_sigmas_are_the_coco_api_s(self):
        # pycocotools computes them as [.26, ...] / 10.0, so equal up to the last bit of a float.
        np.testing.assert_allclose(self.layout.sigmas, Params(iouType="keypoints").kpt_oks_sigmas, rtol=1e-12, atol=0)

    def test_it_is_the_body_of_coco_wholebody(self):
        # COCO-WholeBody keeps COCO's 17 body keypoints, their sigmas, skeleton and tree, as its first part.
        body = kp.PARTS["body"]
        assert self.layout.names == tuple(kp.NAMES[i] for i in body)
        np.testing.assert_array_equal(self.layout.sigmas, kp.SIGMAS[body])
        np.testing.assert_array_equal(self.layout.parents, kp.PARENTS[body])
        wholebody_body_links = [(lk.a, lk.b) for lk in kp.LINKS if lk.part == "body"]
        assert [(lk.a, lk.b) for lk in self.layout.links] == wholebody_body_links
        assert len(self.layout.links) == 19
        np.testing.assert_array_equal(self.layout.flip_index, kp.FLIP_INDEX[body])

    def test_anchors(self):
        a = self.layout.anchors
        assert [self.layout.names[j] for j in a.pelvis] == ["left_hip", "right_hip"]
        assert (a.left_hand_root, a.right_hand_root, a.face_nose_tip) == (None, None, None)


def _videopose3d_remove_joints(parents, joints_left, joints_right, joints_to_remove):
    """VideoPose3D's ``Skeleton.remove_joints`` (common/skeleton.py), transcribed: the 32 -> 17 reduction."""
    parents = list(parents)
    valid = [j for j in range(len(parents)) if j not in joints_to_remove]
    for i in range(len(parents)):
        while parents[i] in joints_to_remove:
            parents[i] = parents[parents[i]]
    offsets = np.zeros(len(parents), dtype=int)
    new_parents = []
    for i, parent in enumerate(parents):
        if i not in joints_to_remove:
            new_parents.append(parent - offsets[parent])
        else:
            offsets[i:] += 1
    left = [j - offsets[j] for j in joints_left if j in valid]
    right = [j - offsets[j] for j in joints_right if j in valid]
    return np.array(new_parents), left, right


class TestHuman36m17:
    layout = kp.layout_get("h36m-17")

    def test_tree_and_sides_are_videopose3d_s(self):
        # common/h36m_dataset.py: the 32-joint skeleton, its reduction to 17 and the shoulders rewired to the thorax.
        parents32 = [-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12,
                     16, 17, 18, 19, 20, 19, 22, 12, 24, 25, 26, 27, 28, 27, 30]  # fmt: skip
        left32 = [6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23]
        right32 = [1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31]
        removed = [4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31]
        parents, left, right = _videopose3d_remove_joints(parents32, left32, right32, removed)
        parents[11] = parents[14] = 8
        np.testing.assert_array_equal(self.layout.parents, parents)
        assert [self.layout.names[j] for j in left] == [
            "left_hip", "left_knee", "left_foot", "left_shoulder", "left_elbow", "left_wrist",
        ]  # fmt: skip
        np.testing.assert_array_equal(self.layout.flip_index[left], right)

    def test_anchors_say_what_it_lacks(self):
        a = self.layout.anchors
        assert [self.layout.names[j] for j in a.pelvis] == ["root"]
        assert (a.nose, a.left_hand_root, a.right_hand_root, a.face_nose_tip) == (None, None, None, None)


#: sha256 of every module-level layout name of ``annotator.keypoints`` (see ``_fingerprint``), computed on
#: the module as it was before layouts became values (main at e319980); the default must not change.
FINGERPRINT_BEFORE_LAYOUT_VALUES = "026d9bb4a0ef3c516dee5191e249ea659144bf5a705f6af6530aa4816ec70971"


def _fingerprint() -> str:
    items = {
        "json": kp.layout_json(),
        "version": kp.LAYOUT_VERSION, "name": kp.LAYOUT_NAME, "n": kp.NUM_KEYPOINTS,
        "names": list(kp.NAMES), "labels": list(kp.LABELS), "regions": [list(r) for r in kp.FACE_REGIONS],
        "part_names": list(kp.PART_NAMES), "parts": {p: ix.tolist() for p, ix in kp.PARTS.items()},
        "slices": {p: [s.start, s.stop] for p, s in kp.PART_SLICES.items()}, "part_of": kp.PART_OF.tolist(),
        "focus": list(kp.FOCUS_PARTS), "validity": list(kp.VALIDITY_PARTS),
        "metric_names": list(kp.METRIC_PART_NAMES), "metric": {p: ix.tolist() for p, ix in kp.METRIC_PARTS.items()},
        "anchors": [kp.NOSE, kp.LEFT_HIP, kp.RIGHT_HIP, list(kp.PELVIS_JOINTS), kp.LEFT_WRIST, kp.RIGHT_WRIST,
                    kp.LEFT_HAND_ROOT, kp.RIGHT_HAND_ROOT, kp.FACE_NOSE_TIP],
        "links": [[lk.a, lk.b, lk.part] for lk in kp.LINKS], "parents": kp.PARENTS.tolist(),
        "flip": kp.FLIP_INDEX.tolist(), "flip_pairs": [list(p) for p in kp.FLIP_PAIRS], "sigmas": kp.SIGMAS.tolist(),
        "colors": dict(kp.PART_COLORS), "bones": {s: kp.bones(s).tolist() for s in kp.BONE_SUBSETS},
        "bone_subsets": list(kp.BONE_SUBSETS), "default_subset": kp.DEFAULT_BONE_SUBSET,
        "hemlets": list(kp.HEMLETS14_CHILDREN), "face_region_sizes": [list(r) for r in kp.FACE_REGION_SIZES],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()


class TestDefaultIsTodaysLayout:
    layout = kp.DEFAULT_LAYOUT

    def test_module_names_are_unchanged(self):
        assert _fingerprint() == FINGERPRINT_BEFORE_LAYOUT_VALUES

    def test_module_names_are_the_default_instance_s(self):
        d = self.layout
        assert d is kp.layout_get("coco-wholebody-133/v1") is kp.layout_get("coco-wholebody-133")
        assert (kp.LAYOUT_VERSION, kp.LAYOUT_NAME, kp.NUM_KEYPOINTS) == (d.version, d.title, d.num_keypoints)
        assert (kp.NAMES, kp.LABELS, kp.FACE_REGIONS, kp.LINKS) == (d.names, d.labels, d.regions, d.links)
        assert (kp.PART_NAMES, kp.FOCUS_PARTS, kp.VALIDITY_PARTS) == (d.part_names, d.focus_parts, d.validity_parts)
        assert kp.PARTS is d.parts and kp.METRIC_PARTS is d.metric_parts and kp.PART_COLORS is d.part_colors
        assert dict(kp.PART_SLICES) == dict(d.part_slices) and kp.FLIP_PAIRS == d.flip_pairs
        for mine, its in ((kp.PARENTS, d.parents), (kp.FLIP_INDEX, d.flip_index), (kp.SIGMAS, d.sigmas),
                          (kp.PART_OF, d.part_of)):  # fmt: skip
            np.testing.assert_array_equal(mine, its)
        assert kp.layout_json() == d.to_json()
        for subset in ("all", *kp.PART_NAMES):
            np.testing.assert_array_equal(kp.bones(subset), d.bones(subset))

    def test_anchors_are_the_module_s_roots(self):
        a = self.layout.anchors
        assert a.pelvis == kp.PELVIS_JOINTS and a.nose == kp.NOSE and a.face_nose_tip == kp.FACE_NOSE_TIP
        assert (a.left_wrist, a.right_wrist) == (kp.LEFT_WRIST, kp.RIGHT_WRIST)
        assert (a.left_hand_root, a.right_hand_root) == (kp.LEFT_HAND_ROOT, kp.RIGHT_HAND_ROOT)

    def test_flip_pairs_are_the_data_file_s(self):
        raw = json.loads((kp.presets._DATA_DIR / "coco_wholebody_layout.json").read_text())
        assert kp.FLIP_PAIRS == tuple((a, b) for a, b in raw["flip_pairs"])


class TestRefusals:
    def test_unknown_layout_name_lists_the_known_ones(self):
        with pytest.raises(kp.LayoutError) as caught:
            kp.layout_get("coco-18")
        message = str(caught.value)
        assert "unknown keypoint layout 'coco-18'" in message
        for version in kp.LAYOUTS:
            assert version in message

    def test_unknown_keypoint_names_its_layout(self):
        with pytest.raises(KeyError, match="unknown keypoint name 'nose' in layout h36m-17/v1"):
            kp.layout_get("h36m-17").index("nose")

    def test_unknown_bone_subset_of_a_layout(self):
        with pytest.raises(ValueError, match="unknown bone subset 'face'"):
            kp.layout_get("coco-17").bones("face")

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"parents": np.array([-1, 2, 1] + list(range(3, 17)))}, "cycle"),
            ({"parents": np.full(17, -1)}, "one tree"),
            ({"flip_index": np.zeros(17, dtype=np.intp)}, "involution"),
            ({"sigmas": np.r_[0.0, np.full(16, 0.05)]}, "positive"),
            ({"sigmas": np.full(16, 0.05)}, r"shape \(16,\)"),
            ({"names": ("nose",) * 17}, "unique"),
            ({"part_colors": {}}, "colour"),
            ({"focus_parts": ("face",)}, r"focus parts \['face'\]"),
            ({"anchors": kp.Anchors(pelvis=(17,))}, "anchors"),
        ],
    )
    def test_malformed_layouts_are_refused(self, change, message):
        with pytest.raises(kp.LayoutError, match=message):
            dataclasses.replace(kp.layout_get("coco-17"), **change)

    def test_parts_must_partition_the_keypoints(self):
        base = kp.layout_get("coco-17")
        overlapping = {"a": np.arange(0, 10), "b": np.arange(5, 17)}
        with pytest.raises(kp.LayoutError, match="exactly once"):
            dataclasses.replace(
                base, part_names=("a", "b"), parts=overlapping, focus_parts=(), part_colors={"a": "#fff"}
            )


def test_a_layout_keeps_its_own_read_only_copies_of_what_it_was_given():
    base = kp.layout_get("coco-17")
    parents, colors = base.parents.tolist(), {"body": "#000000"}
    layout = dataclasses.replace(base, parents=parents, part_colors=colors)
    parents[1], colors["body"] = 5, "#ffffff"
    np.testing.assert_array_equal(layout.parents, base.parents)
    assert layout.part_colors["body"] == "#000000"
    with pytest.raises(TypeError):
        layout.part_colors["body"] = "#ffffff"
    with pytest.raises(ValueError, match="read-only"):
        layout.parents[1] = 5


class RequireLayoutTests:
    def test_the_needed_layout_passes(self):
        kp.require_layout(kp.DEFAULT_LAYOUT, "the face refiner")

    def test_another_layout_is_refused_naming_both(self):
        from annotator.exceptions import NotApplicableError

        coco17 = kp.layout_get("coco-17")
        with pytest.raises(NotApplicableError, match=r"the face refiner applies to the COCO-WholeBody layout") as e:
            kp.require_layout(coco17, "the face refiner")
        assert "COCO-17 (coco-17/v1)" in e.value.message
        assert e.value.extra == {"layout": "coco-17/v1", "needed": kp.LAYOUT_VERSION}


@pytest.mark.django_db
def test_a_dataset_hands_out_its_own_layout():
    from annotator.models import Dataset

    assert Dataset.objects.create(name="wb").layout is kp.DEFAULT_LAYOUT
    assert Dataset.objects.create(name="body", layout_version="coco-17/v1").layout is kp.layout_get("coco-17")


class TestBoneSubsets:
    """FBI's bone subsets live in the layout: "all" and one per part everywhere, the named ones per layout."""

    def test_every_layout_has_all_its_parts_and_hemlets14(self):
        for layout in kp.LAYOUTS.values():
            subsets = layout.bone_subsets
            assert {"all", *layout.part_names, "hemlets14", "limbs"} == set(subsets)
            assert layout.default_bone_subset == "hemlets14" and len(subsets["hemlets14"]) == 14
            assert len(subsets["all"]) == layout.num_keypoints - 1  # a tree: one bone per keypoint but the root
            for pairs in subsets.values():
                np.testing.assert_array_equal(layout.parents[pairs[:, 1]], pairs[:, 0])
                assert not pairs.flags.writeable
        assert set(kp.ALL_BONE_SUBSETS) == {s for layout in kp.LAYOUTS.values() for s in layout.bone_subsets}
        # What an FBI task or label may store: the subsets of every layout.
        from annotator.models import FBIAutoLabels, Task

        for field in (Task._meta.get_field("bones"), FBIAutoLabels._meta.get_field("bones_subset")):
            assert [value for value, _ in field.choices] == list(kp.ALL_BONE_SUBSETS)

    def test_h36m_hemlets14_are_hemlets_own_bones(self):
        # redrock303/HEMlets inference/table.py h36m_cons_n (VideoPose3D's joint order), without root -> spine.
        h36m_cons_n = [[1, 0], [4, 0], [7, 0], [2, 1], [3, 2], [5, 4], [6, 5], [14, 8], [11, 8], [9, 8], [10, 9],
                       [15, 14], [16, 15], [12, 11], [13, 12]]  # fmt: skip
        expected = sorted((p, c) for c, p in h36m_cons_n if (p, c) != (0, 7))
        bones = kp.layout_get("h36m-17").bones("hemlets14")
        assert sorted(map(tuple, bones.tolist())) == expected

    def test_coco17_hemlets14_are_wholebodys_with_the_ears_for_the_feet(self):
        coco17, whole = kp.layout_get("coco-17"), kp.DEFAULT_LAYOUT
        names17 = {coco17.bone_name(p, c) for p, c in coco17.bones("hemlets14")}
        names133 = {whole.bone_name(p, c) for p, c in whole.bones("hemlets14")}
        assert names17 - names133 == {"nose -> left_ear", "nose -> right_ear"}
        assert names133 - names17 == {"left_ankle -> left_big_toe", "right_ankle -> right_big_toe"}

    def test_unknown_subsets_name_the_layouts_own(self):
        with pytest.raises(ValueError, match=r"unknown bone subset 'face' of COCO-17; use one of \('hemlets14'"):
            kp.layout_get("coco-17").bones("face")
        with pytest.raises(kp.LayoutError, match="for the Human3.6M-17 layout; use one of hemlets14, limbs, all"):
            kp.bone_subset_check(kp.layout_get("h36m-17"), "feet")
        assert kp.bone_subset_check(kp.layout_get("h36m-17"), "") == "hemlets14"

    @pytest.mark.parametrize(
        ("named", "default", "message"),
        [
            ({"body": [1]}, "all", "has the name of a part"),
            ({"x": [0]}, "all", "names the root"),
            ({"x": [1, 1]}, "all", "distinct keypoints"),
            ({"x": [99]}, "all", "distinct keypoints"),
            ({}, "x", "default bone subset 'x' is not a bone subset"),
        ],
    )
    def test_malformed_bone_subsets_are_refused(self, named, default, message):
        with pytest.raises(kp.LayoutError, match=message):
            dataclasses.replace(kp.layout_get("coco-17"), named_bones=named, default_bone_subset=default)


class TestMetricJson:
    """What a study report's charts get of the layout (``Layout.metric_json``, read by study-parts.js)."""

    def test_the_default_gives_the_colours_the_dashboard_always_drew(self):
        data = kp.DEFAULT_LAYOUT.metric_json()
        assert {p["name"]: p["color"] for p in data["metric_parts"]} == {
            "all": "#2f6fde", "body": "#3399ff", "face": "#f72205", "hand": "#00b050"}  # fmt: skip
        assert data["part_metric"] == {"body": "body", "feet": "body", "face": "face", "left_hand": "hand",
                                       "right_hand": "hand"}  # fmt: skip

    def test_a_body_only_layout_has_its_two_parts(self):
        for name in ("coco-17", "h36m-17"):
            data = kp.layout_get(name).metric_json()
            assert [(p["name"], p["label"]) for p in data["metric_parts"]] == [("all", "All"), ("body", "Body")]
            assert data["part_metric"] == {"body": "body"}

    def test_a_metric_part_without_a_colour_is_refused(self):
        with pytest.raises(kp.LayoutError, match=r"metric parts \['all'\] have no colour"):
            dataclasses.replace(kp.layout_get("coco-17"), metric_colors={})


def test_the_browser_json_of_a_layout_is_made_once_and_equals_to_json():
    for layout in kp.LAYOUTS.values():
        assert layout.json is layout.json
        assert layout.json == layout.to_json()
    assert kp.layout_json() is kp.DEFAULT_LAYOUT.json
