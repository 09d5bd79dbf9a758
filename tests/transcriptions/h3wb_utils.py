"""Transcription of wholebody3d/wholebody3d ``utils/utils.py`` ``json_loader`` (commit
1f135958873dfaba3085a894b01d9d995d03a342), its training branch: how the authors read ``2Dto3D_train.json`` and
``RGBto3D_train.json``. Unchanged but for the ``type='test'`` branch left out (the evaluator's transcription in
``h3wb_leaderboard.py`` covers the test files).
"""

import json

import torch


def json_loader(data_path, task=1, type="train"):
    input_list = []
    target_list = []
    bbox_list = []
    if type == "train":
        if (task == 1) or (task == 2) or ("2D" in str(task)):
            data = json.load(open(data_path + "/2Dto3D_train.json"))
            length = len(data)
            for i in range(length):
                sample_2d = torch.zeros(1, 133, 2)
                sample_3d = torch.zeros(1, 133, 3)
                for j in range(133):
                    sample_2d[0, j, 0] = data[str(i)]["keypoints_2d"][str(j)]["x"]
                    sample_2d[0, j, 1] = data[str(i)]["keypoints_2d"][str(j)]["y"]
                    sample_3d[0, j, 0] = data[str(i)]["keypoints_3d"][str(j)]["x"]
                    sample_3d[0, j, 1] = data[str(i)]["keypoints_3d"][str(j)]["y"]
                    sample_3d[0, j, 2] = data[str(i)]["keypoints_3d"][str(j)]["z"]
                input_list.append(sample_2d)
                target_list.append(sample_3d)
            return input_list, target_list
        elif (task == 3) or ("RGB" in str(task)):
            data = json.load(open(data_path + "/RGBto3D_train.json"))
            length = len(data)
            for i in range(length):
                sample_3d = torch.zeros(1, 133, 3)
                bbox = torch.zeros(1, 4)
                bbox[0, 0] = int(data[str(i)]["bbox"]["x_min"])
                bbox[0, 1] = int(data[str(i)]["bbox"]["y_min"])
                bbox[0, 2] = int(data[str(i)]["bbox"]["x_max"])
                bbox[0, 3] = int(data[str(i)]["bbox"]["y_max"])
                bbox_list.append(bbox)
                for j in range(133):
                    sample_3d[0, j, 0] = data[str(i)]["keypoints_3d"][str(j)]["x"]
                    sample_3d[0, j, 1] = data[str(i)]["keypoints_3d"][str(j)]["y"]
                    sample_3d[0, j, 2] = data[str(i)]["keypoints_3d"][str(j)]["z"]
                input_list.append(data[str(i)]["image_path"])
                target_list.append(sample_3d)
            return input_list, target_list, bbox_list
