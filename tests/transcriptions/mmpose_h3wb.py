"""Transcription of open-mmlab/mmpose ``H36MWholeBodyDataset`` (mmpose/datasets/datasets/wholebody3d/h3wb_dataset.py,
commit 08bf67b2fdea664a77c10e83b1559f31abc9fef6): ``_load_ann_file`` and ``_load_annotations``.

Changes, marked ``# changed``: a plain class without the ``Human36mDataset`` base (``seq_len``, ``causal``,
``multiple_target``, ``data_mode`` and ``data_root`` are constructor arguments with mmpose's defaults), the
file is opened directly (no ``get_local_path``), and the subjects are a parameter (mmpose: S1, S5, S6 for
training, S7 for test).
"""

import os.path as osp

import numpy as np


class H36MWholeBodyData:
    def __init__(self, ann_file, subjects, seq_len=1, causal=True, multiple_target=0, data_root=""):  # changed
        self.camera_order_id = ["54138969", "55011271", "58860488", "60457274"]
        self.subjects = subjects
        self.seq_len = seq_len
        self.causal = causal
        self.multiple_target = multiple_target
        self.data_root = data_root
        self.data_mode = "topdown"
        self._load_ann_file(ann_file)
        self.instance_list, self.image_list = self._load_annotations()

    def _load_ann_file(self, ann_file):
        data = np.load(ann_file, allow_pickle=True)  # changed: no get_local_path
        self.ann_data = data["train_data"].item()
        self.camera_data = data["metadata"].item()
        self.bboxes = data["bbox"].item()

    def _load_annotations(self):
        instance_list = []
        image_list = []
        instance_id = 0
        for subject in self.subjects:
            actions = self.ann_data[subject].keys()
            for act in actions:
                for cam in self.camera_order_id:
                    if cam not in self.ann_data[subject][act]:
                        continue
                    keypoints_2d = self.ann_data[subject][act][cam]["pose_2d"]
                    keypoints_3d = self.ann_data[subject][act][cam]["camera_3d"]
                    num_keypoints = keypoints_2d.shape[1]

                    camera_param = self.camera_data[subject][cam]
                    camera_param = {
                        "K": camera_param["K"][0, :2, ...],
                        "R": camera_param["R"][0],
                        "T": camera_param["T"].reshape(3, 1),
                        "Distortion": camera_param["Distortion"][0],
                    }
                    camera_param["f"] = (camera_param["K"][0, 0] * 1000, camera_param["K"][1, 1] * 1000)
                    camera_param["c"] = (camera_param["K"][0, 2] * 1000, camera_param["K"][1, 2] * 1000)

                    seq_step = 1
                    _len = (self.seq_len - 1) * seq_step + 1
                    _indices = list(range(len(self.ann_data[subject][act]["frame_id"])))

                    seq_indices = [
                        _indices[i : (i + _len) : seq_step] for i in list(range(0, len(_indices) - _len + 1))
                    ]

                    frames = self.ann_data[subject][act]["frame_id"]

                    for _idx, frame_ids in enumerate(seq_indices):  # changed: idx unused (lint)
                        expected_num_frames = self.seq_len
                        if self.multiple_target:
                            expected_num_frames = self.multiple_target

                        assert len(frame_ids) == (expected_num_frames), (
                            f"Expected `frame_ids` == {expected_num_frames}, but got {len(frame_ids)} "
                        )

                        _kpts_2d = keypoints_2d[frame_ids]
                        _kpts_3d = keypoints_3d[frame_ids]

                        target_idx = [-1] if self.causal else [int(self.seq_len) // 2]
                        if self.multiple_target > 0:
                            target_idx = list(range(self.multiple_target))

                        bbox = self.bboxes[(subject, act, cam, frames[frame_ids[-1]])]
                        bbox = np.array(
                            [[bbox["x_min"], bbox["y_min"], bbox["x_max"], bbox["y_max"]]], dtype=np.float32
                        )

                        img_paths = [
                            osp.join(
                                self.data_root, "original", subject, "Images", f"{act}.{cam}", f"frame_{frames[i]}.jpg"
                            )
                            for i in frame_ids
                        ]

                        instance_info = {
                            "num_keypoints": num_keypoints,
                            "keypoints": _kpts_2d,
                            "keypoints_3d": _kpts_3d / 1000,
                            "keypoints_visible": np.ones_like(_kpts_2d[..., 0], dtype=np.float32),
                            "keypoints_3d_visible": np.ones_like(_kpts_2d[..., 0], dtype=np.float32),
                            "bbox": bbox,
                            "bbox_score": np.ones((len(frame_ids),)),
                            "scale": np.zeros((1, 1), dtype=np.float32),
                            "center": np.zeros((1, 2), dtype=np.float32),
                            "factor": np.zeros((1, 1), dtype=np.float32),
                            "id": instance_id,
                            "category_id": 1,
                            "iscrowd": 0,
                            "camera_param": [camera_param],
                            "img_paths": img_paths,
                            "img_path": img_paths[-1],
                            "img_ids": frame_ids,
                            "lifting_target": _kpts_3d[target_idx] / 1000,
                            "lifting_target_visible": np.ones_like(_kpts_2d[..., 0], dtype=np.float32)[target_idx],
                        }
                        instance_list.append(instance_info)
                        instance_id += 1
        del self.ann_data
        return instance_list, image_list
