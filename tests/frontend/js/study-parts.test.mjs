// study-parts.js: the study report's parts, labels and colours come from the layout data the report carries, so a
// colour changed in the layout data changes the charts, and a body-only layout draws its own two parts.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  OVERFLOW_COLOR,
  UNKNOWN_COLOR,
  histogramColors,
  keypointColors,
  partCaption,
  partColor,
  partLabel,
  partNames,
  partOptions,
} from "../../../frontend/static/frontend/js/study-parts.js";

// Layout.metric_json() of COCO-WholeBody and COCO-17, as the report carries them.
const WHOLEBODY = {
  version: "coco-wholebody-133/v1",
  name: "COCO-WholeBody",
  metric_parts: [
    { name: "all", label: "All", color: "#2f6fde" },
    { name: "body", label: "Body", color: "#3399ff" },
    { name: "face", label: "Face", color: "#f72205" },
    { name: "hand", label: "Hand", color: "#00b050" },
  ],
  part_metric: { body: "body", feet: "body", face: "face", left_hand: "hand", right_hand: "hand" },
};
const COCO17 = {
  version: "coco-17/v1",
  name: "COCO-17",
  metric_parts: [
    { name: "all", label: "All", color: "#2f6fde" },
    { name: "body", label: "Body", color: "#3399ff" },
  ],
  part_metric: { body: "body" },
};

const recolour = (layout, part, color) => ({
  ...layout,
  metric_parts: layout.metric_parts.map((p) => (p.name === part ? { ...p, color } : p)),
});

describe("parts of a study report", () => {
  it("are the layout's metric parts, in order, with their labels", () => {
    assert.deepEqual(partNames(WHOLEBODY), ["all", "body", "face", "hand"]);
    assert.deepEqual(partNames(COCO17), ["all", "body"]);
    assert.equal(partLabel(WHOLEBODY, "hand"), "Hand");
    assert.equal(partLabel(COCO17, "face"), "face"); // a part the layout lacks is named, not invented
    assert.equal(partOptions(COCO17), '<option value="all">All</option><option value="body">Body</option>');
  });

  it("colour each keypoint bar by its metric part, from the layout data", () => {
    const partOf = ["body", "feet", "face", "left_hand", "right_hand", "tail"];
    assert.deepEqual(keypointColors(WHOLEBODY, partOf), ["#3399ff", "#3399ff", "#f72205", "#00b050", "#00b050", UNKNOWN_COLOR]);
    // A colour changed in the layout data changes the chart: nothing in the script re-types it.
    const changed = keypointColors(recolour(WHOLEBODY, "hand", "#123456"), partOf);
    assert.deepEqual(changed.slice(3, 5), ["#123456", "#123456"]);
    assert.equal(changed[0], "#3399ff");
    assert.deepEqual(keypointColors(recolour(COCO17, "body", "#abcdef"), ["body", "body"]), ["#abcdef", "#abcdef"]);
  });

  it("shade a histogram's band in the part's colour, faded outside it, the overflow grey", () => {
    const edges = [0, 10, 20, 30];
    assert.deepEqual(histogramColors(WHOLEBODY, "face", edges, [10, 20]), ["#f7220580", "#f72205", "#f7220580", OVERFLOW_COLOR]);
    assert.deepEqual(histogramColors(recolour(COCO17, "all", "#000000"), "all", edges, [10, 20]),
      ["#00000080", "#000000", "#00000080", OVERFLOW_COLOR]);
    assert.equal(partColor(COCO17, "hand"), UNKNOWN_COLOR);
  });
});

describe("partCaption", () => {
  it("names the anatomical parts a metric part groups, from the layout data", () => {
    assert.equal(partCaption(WHOLEBODY, "all"), "All keypoints");
    assert.equal(partCaption(WHOLEBODY, "body"), "Body (with feet)");
    assert.equal(partCaption(WHOLEBODY, "face"), "Face");
    assert.equal(partCaption(WHOLEBODY, "hand"), "Hand (left hand and right hand)");
    assert.equal(partCaption(COCO17, "body"), "Body");
  });
});
