// compare-views.js's pure parts: the keypoints that moved most between two versions, and a keypoint's part.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { displacements, partIndices } from "../../../frontend/static/frontend/js/compare-views.js";

const layout = { names: ["a", "b", "c", "d"], parts: [[0, 2], [2, 4]], part_of: [0, 0, 1, 1] };

describe("compare views", () => {
  it("partIndices lists the keypoints of k's part", () => {
    assert.deepEqual(partIndices(layout, 0), [0, 1]);
    assert.deepEqual(partIndices(layout, 3), [2, 3]);
  });
  it("displacements keep each keypoint's largest move over the views, worst first, above the threshold", () => {
    const state = {
      layout,
      views: [
        { camera: "c1", base: [[0, 0], [0, 0], [5, 5], null], current: [[3, 4], [0, 0.04], [5, 6], [1, 1]] },
        { camera: "c2", base: [[0, 0], [0, 0], [5, 5], [0, 0]], current: [[0, 1], [0, 0], [5, 15], null] },
      ],
    };
    assert.deepEqual(displacements(state, 0.05), [
      { k: 2, px: 10, camera: "c2" },
      { k: 0, px: 5, camera: "c1" },
    ]);
    assert.deepEqual(displacements(state, 0.01).map((m) => m.k), [2, 0, 1]);
  });
});
