"""A trained refiner's suggestion on people it never saw: on average it does not make them worse.

The shipped face and hand refiners were trained on S1, S5, S6, S7 and S8; the unseen rig shows S9 and S11.
Every face and hand in the image of every view is refined from a dataset skeleton's projection (the rig's own
and one more draw of its error model per instant), exactly as the editor's ``g`` does, and the mean
keypoint error after must not exceed the mean before, for each network.
"""

from __future__ import annotations

import numpy as np
import pytest

from annotator import geometry
from ml_services.checkpoints import default_checkpoint, load_checkpoint
from ml_services.heldout import require_unseen
from ml_services.images import load_rgb
from ml_services.refine import refine_part
from ml_services.scoring import SCORED_PARTS
from tests.ml_services.rig import UNSEEN_SUBJECTS, error_draws, unseen_instants

DRAWS = 2


@pytest.fixture(scope="module")
def errors() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return refinement_errors()


def refinement_errors() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """network -> (input, refined) mean keypoint error (px) of every part instance."""
    require_unseen(UNSEEN_SUBJECTS, {net: default_checkpoint(net) for net in ("face", "hand")})
    models = {net: load_checkpoint(default_checkpoint(net), net) for net in ("face", "hand")}
    rng = np.random.default_rng(3)
    out: dict[str, tuple[list, list]] = {"face": ([], []), "hand": ([], [])}
    for inst in unseen_instants():
        skeletons = error_draws(inst, DRAWS, rng)
        for cam, path in zip(inst["cameras"], inst["images"], strict=True):
            image = load_rgb(path)
            truth = geometry.project(cam, inst["world"])
            for skeleton in skeletons:
                start = geometry.project(cam, skeleton)
                for _, net, idx, mirror in SCORED_PARTS:
                    centre = start[idx].mean(axis=0)
                    if not (0 <= centre[0] < image.shape[1] and 0 <= centre[1] < image.shape[0]):
                        continue
                    refined = refine_part(models[net], image, start[idx], mirror)
                    out[net][0].append(np.linalg.norm(start[idx] - truth[idx], axis=1).mean())
                    out[net][1].append(np.linalg.norm(refined - truth[idx], axis=1).mean())
    return {net: (np.array(a), np.array(b)) for net, (a, b) in out.items()}


class UnseenPeopleRefinementTests:
    @pytest.mark.parametrize("net", ["face", "hand"])
    def test_no_worse_on_average(self, errors, net):
        before, after = errors[net]
        assert before.size >= 24
        assert after.mean() <= before.mean(), f"{net}: {before.mean():.2f} px -> {after.mean():.2f} px"
