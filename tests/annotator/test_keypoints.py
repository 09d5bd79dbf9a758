"""The layout module: counts, part partition, links, parents, flips, sigmas."""

import numpy as np
import pytest
from django.test import SimpleTestCase

from annotator import keypoints as kp


class LayoutTests(SimpleTestCase):
    def test_counts_match_coco_wholebody(self):
        counts = {p: len(ix) for p, ix in kp.PARTS.items()}
        self.assertEqual(counts, {"body": 17, "feet": 6, "face": 68, "left_hand": 21, "right_hand": 21})
        self.assertEqual(kp.NUM_KEYPOINTS, sum(counts.values()))
        self.assertEqual(len(kp.NAMES), kp.NUM_KEYPOINTS)
        self.assertEqual(len(set(kp.NAMES)), kp.NUM_KEYPOINTS)

    def test_parts_partition_every_index_exactly_once(self):
        allidx = np.sort(np.concatenate(list(kp.PARTS.values())))
        np.testing.assert_array_equal(allidx, np.arange(kp.NUM_KEYPOINTS))
        for part, sl in kp.PART_SLICES.items():
            np.testing.assert_array_equal(np.arange(kp.NUM_KEYPOINTS)[sl], kp.PARTS[part])

    def test_metric_parts_follow_h3wb(self):
        # H3WB benchmark: body = keypoints 1-23 (1-based, body + feet), face 24-91, hands 92-133.
        self.assertEqual(kp.METRIC_PARTS["body"].tolist(), list(range(0, 23)))
        self.assertEqual(kp.METRIC_PARTS["face"].tolist(), list(range(23, 91)))
        self.assertEqual(kp.METRIC_PARTS["hand"].tolist(), list(range(91, 133)))
        self.assertEqual(len(kp.METRIC_PARTS["all"]), kp.NUM_KEYPOINTS)

    def test_named_roots(self):
        self.assertEqual(kp.NAMES[kp.NOSE], "nose")
        self.assertEqual([kp.NAMES[i] for i in kp.PELVIS_JOINTS], ["left_hip", "right_hip"])
        self.assertEqual(kp.NAMES[kp.LEFT_HAND_ROOT], "left_hand_root")
        self.assertEqual(kp.NAMES[kp.RIGHT_HAND_ROOT], "right_hand_root")
        self.assertEqual(kp.NAMES[kp.FACE_NOSE_TIP], "face-30")

    def test_unknown_name_is_a_clear_error(self):
        with self.assertRaisesRegex(KeyError, "unknown keypoint name 'elbow'"):
            kp.index("elbow")

    def test_flip_index_is_an_involution_that_swaps_sides(self):
        np.testing.assert_array_equal(kp.FLIP_INDEX[kp.FLIP_INDEX], np.arange(kp.NUM_KEYPOINTS))
        for a, b in kp.FLIP_PAIRS:
            self.assertEqual(kp.FLIP_INDEX[a], b)
            self.assertEqual(kp.FLIP_INDEX[b], a)
            if kp.NAMES[a].startswith("left_"):
                self.assertEqual(kp.NAMES[b], "right_" + kp.NAMES[a][len("left_") :])
        self.assertEqual(kp.FLIP_INDEX[kp.LEFT_HAND_ROOT], kp.RIGHT_HAND_ROOT)

    def test_parents_form_a_tree_rooted_at_the_nose(self):
        self.assertEqual(int((kp.PARENTS < 0).sum()), 1)
        self.assertEqual(int(kp.PARENTS[kp.NOSE]), -1)
        for j in range(kp.NUM_KEYPOINTS):
            seen, node = set(), j
            while node >= 0:
                self.assertNotIn(node, seen, "cycle in PARENTS")
                seen.add(node)
                node = int(kp.PARENTS[node])
        # Fingers chain from the hand roots, which hang off the wrists (H3WB's prepare_data_h3wb.py).
        self.assertEqual(kp.PARENTS[kp.LEFT_HAND_ROOT], kp.LEFT_WRIST)
        self.assertEqual(kp.PARENTS[kp.index("left_thumb2")], kp.index("left_thumb1"))
        self.assertEqual(kp.PARENTS[kp.index("right_pinky_finger1")], kp.RIGHT_HAND_ROOT)

    def test_links_stay_inside_the_layout_and_parts(self):
        for link in kp.LINKS:
            self.assertTrue(0 <= link.a < kp.NUM_KEYPOINTS and 0 <= link.b < kp.NUM_KEYPOINTS)
            self.assertIn(link.part, (*kp.PART_NAMES, "connector"))
        face_links = [lk for lk in kp.LINKS if lk.part == "face"]
        self.assertGreater(len(face_links), 50)

    def test_sigmas_are_the_published_ones(self):
        self.assertEqual(kp.SIGMAS.shape, (kp.NUM_KEYPOINTS,))
        self.assertAlmostEqual(float(kp.SIGMAS[kp.NOSE]), 0.026)
        self.assertTrue(np.all(kp.SIGMAS > 0))

    def test_layout_json_is_self_consistent(self):
        data = kp.layout_json()
        self.assertEqual(len(data["names"]), data["num_keypoints"])
        self.assertEqual(set(data["colors"]) - {"connector"}, set(kp.PART_NAMES))


@pytest.mark.parametrize("subset", ["all", "limbs", "face", "left_hand"])
def test_bone_subsets_are_parent_child_pairs(subset):
    bones = kp.bones(subset)
    assert bones.ndim == 2 and bones.shape[1] == 2 and len(bones)
    np.testing.assert_array_equal(kp.PARENTS[bones[:, 1]], bones[:, 0])


def test_unknown_bone_subset_is_rejected():
    with pytest.raises(ValueError, match="unknown bone subset 'arms'"):
        kp.bones("arms")


def test_no_other_module_spells_out_the_layout():
    """Nothing outside the annotator/keypoints package may hard-code the joint count or a part range."""
    import re
    from pathlib import Path

    package = Path(kp.__file__).resolve().parent
    root = package.parent.parent
    pattern = re.compile(r"(?<![\d.])133(?![\d.])|\b(?:23|91|112)\s*:\s*(?:91|112|133)\b")
    offenders, scanned = [], 0
    for top in ("annotator", "api", "frontend", "ml_services", "fixtures"):
        for path in (root / top).rglob("*"):
            if path.suffix not in {".py", ".js", ".html"} or "migrations" in path.parts or path.is_relative_to(package):
                continue
            scanned += 1
            for n, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert scanned > 100, f"the scan found only {scanned} files under {root}: is the root right?"
    assert not offenders, "layout spelled out outside annotator/keypoints/:\n" + "\n".join(offenders)


def test_face_labels_name_regions_on_the_person_s_own_sides():
    """Face points are labelled by region; a left/right flip swaps the side of every sided label."""
    face = kp.PARTS["face"]
    assert [kp.LABELS[i] for i in (face[0], face[16], face[17], face[36], face[67])] == [
        "jaw 1", "jaw 17", "right brow 1", "right eye 1", "inner lip 8",
    ]  # fmt: skip
    for i in face:
        label, mirror = kp.LABELS[i], kp.LABELS[kp.FLIP_INDEX[i]]
        for side, other in (("left", "right"), ("right", "left")):
            if label.startswith(side):
                assert mirror.startswith(other), (label, mirror)
    assert kp.LABELS[kp.LEFT_WRIST] == "left wrist"
    assert kp.layout_json()["labels"] == list(kp.LABELS)
    assert sum(stop - start for _, start, stop in kp.FACE_REGIONS) == len(face)
