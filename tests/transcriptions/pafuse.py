"""Transcription of valeoai/PAFUSE (commit a787f41b60563000d1360cbb5b1ba7fd6f2d1d2e): the H3WB npz loader
(``common/h3wb_dataset.py``, ``Human3WBDataset.__init__`` data part and ``add_root_joint``), the part frames
(``common/utils.py`` ``center_pose_at_root`` / ``center_pose_parts``) and the part errors of ``common/loss.py``
(``mpjpe_diffusion_all_min(..., mean_pos=True, part_based=True)`` with one hypothesis and one frame).

Changes, marked ``# changed``: the loader keeps only what reads the file (no VideoPose3D camera tables, no
``MocapDataset`` base class, no hard-coded sibling test file unless given); the error function takes (N, 134, 3)
poses instead of (B, T, H, F, J, 3) and skips the ``einops`` rearrange that only reorders those axes.
"""

import copy

import numpy as np
import torch


class Human3WBData:
    camera_order_id = ["54138969", "55011271", "58860488", "60457274"]

    def __init__(self, path, test_path=None, add_root=True):  # changed: the test file is a parameter
        check_data = np.load(path, allow_pickle=True)
        self.metadata = check_data["metadata"].item()
        train_data = check_data["train_data"].item()
        if test_path is not None:
            test_data_3d = np.load(test_path, allow_pickle=True)["data"].item()
            train_data.update(test_data_3d)

        joints_left = self.metadata["left_side"]
        joints_right = self.metadata["right_side"]
        dups = []
        for kp in joints_left:
            if kp in joints_right:
                dups.append(kp)
        offset = 1 if add_root else 0
        self.joints_left = [ele + offset for ele in joints_left if ele not in dups]
        self.joints_right = [ele + offset for ele in joints_right if ele not in dups]
        self.root_indices = {"body": 0, "face": 54, "left_hand": 92, "right_hand": 113}

        if add_root:
            train_data = self.add_root_joint(copy.deepcopy(train_data))
        self._data = {}
        for subject, actions in train_data.items():
            self._data[subject] = {}
            for action_name, act_data in actions.items():
                self._data[subject][action_name] = {
                    "positions": act_data["global_3d"].squeeze(),
                    "cameras": [self.metadata[subject][cam] for cam in self.camera_order_id],
                    "positions_3d": [act_data[cam]["camera_3d"].squeeze() for cam in self.camera_order_id],
                    "pose_2d": [act_data[cam]["pose_2d"].squeeze() for cam in self.camera_order_id],
                }
        self.compute_part_joint_indices()

    @staticmethod
    def add_root_joint(train_data, root_joint_inds=[11, 12]):  # noqa: B006 - as in the source
        for subject, actions in train_data.items():
            for kk, vv in actions.items():
                for kkk, vvv in vv.items():
                    if kkk == "frame_id":
                        continue
                    elif kkk == "global_3d":
                        global_3d = vvv
                        d_shape = global_3d.shape
                        new_global_3d = np.zeros((d_shape[0], d_shape[1] + 1, d_shape[2]))
                        new_global_3d[:, 1:, :] = global_3d
                        static_joint = (
                            global_3d[:, root_joint_inds[0] : root_joint_inds[1], :]
                            + global_3d[:, root_joint_inds[1] : root_joint_inds[1] + 1, :]
                        ) / 2.0
                        new_global_3d[:, :1, :] = static_joint
                        train_data[subject][kk][kkk] = new_global_3d
                    else:
                        for cam_data_k, cam_data in vvv.items():
                            if cam_data_k == "sample_id":
                                continue
                            global_3d = cam_data
                            d_shape = global_3d.shape
                            new_global_3d = np.zeros((d_shape[0], d_shape[1] + 1, d_shape[2]))
                            new_global_3d[:, 1:, :] = global_3d
                            static_joint = (
                                global_3d[:, root_joint_inds[0] : root_joint_inds[1], :]
                                + global_3d[:, root_joint_inds[1] : root_joint_inds[1] + 1, :]
                            ) / 2.0
                            new_global_3d[:, :1, :] = static_joint
                            train_data[subject][kk][kkk][cam_data_k] = new_global_3d
        return train_data

    def compute_part_joint_indices(self):
        parts = ["body", "face", "left_hand", "right_hand", "left_foot", "right_foot"]
        self.parts_joint_indices = {part: [ele + 1 for ele in self.metadata[part]] for part in parts}
        self.parts_joint_indices["body"] = (
            [0]
            + self.parts_joint_indices["body"]
            + self.parts_joint_indices["left_foot"]
            + self.parts_joint_indices["right_foot"]
        )
        del self.parts_joint_indices["left_foot"]
        del self.parts_joint_indices["right_foot"]


def center_pose_at_root(pose_3d, root_idx=0, joint_dim=-2, revert=False):
    assert joint_dim < len(pose_3d.shape)
    assert root_idx < pose_3d.shape[joint_dim]
    offset = pose_3d.select(dim=joint_dim, index=root_idx).unsqueeze(joint_dim)
    if revert:
        offset *= -1
    return pose_3d - offset


def center_pose_parts(pose_3d, dataset):
    parts_joint_indices = dataset.parts_joint_indices
    parts_root_indices = dataset.root_indices
    pose_3d_ret = torch.zeros_like(pose_3d)
    for part, joint_indices in parts_joint_indices.items():
        pose_3d_ret[..., joint_indices, :] = center_pose_at_root(
            pose_3d,
            root_idx=parts_root_indices[part],
            joint_dim=-2,
        )[..., joint_indices, :]
    return pose_3d_ret


def part_errors(predicted, target, dataset):  # changed: (N, 134, 3) poses, one hypothesis
    predicted = center_pose_parts(predicted, dataset=dataset)
    target = center_pose_parts(target, dataset=dataset)
    errors = torch.norm(predicted - target, dim=len(target.shape) - 1)
    part_errors = errors.clone()
    part_mpjpe = {}
    for pp, inds in dataset.parts_joint_indices.items():
        temp_error = part_errors[..., inds]
        part_mpjpe[pp] = torch.mean(temp_error.reshape(-1)).item()
    part_mpjpe["all"] = torch.mean(errors.reshape(-1)).item()
    part_mpjpe["hands"] = (part_mpjpe["right_hand"] + part_mpjpe["left_hand"]) / 2.0  # as main_h3wb.py prints
    return part_mpjpe
