// suggestions.js: the refiner's suggestions on the editor state (accept all / one, dismiss), no DOM.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as S from "../../../frontend/static/frontend/js/state.js";
import * as G from "../../../frontend/static/frontend/js/suggestions.js";

const LAYOUT = {
  names: ["nose", "chin", "brow", "mouth", "thumb"],
  parts: { body: [0, 1], face: [1, 4], left_hand: [4, 5] },
  part_of: ["body", "face", "face", "face", "left_hand"],
  focus_parts: ["body", "face", "left_hand"],
  validity_parts: ["face", "left_hand"],
  links: [],
  colors: { body: "#3399ff", face: "#f72205", left_hand: "#00e060", connector: "#c0c0c0" },
};

function state() {
  const view = (id) => ({
    id, camera: `cam${id}`, image_url: "", width: 1000, height: 1000, camera_params: {},
    base: [[10, 10], [100, 100], [110, 100], [120, 100], [300, 300]],
    current: [[10, 10], [100, 100], [110, 100], [120, 100], [300, 300]],
    corrected: [false, false, false, false, false], flags: new Array(5).fill("visible"), part_valid: { face: true },
  });
  return S.createState({
    id: 1, status: "in_progress", revision: 0, assignee: "ann", can_edit: true, lock: { holder: "ann", mine: true },
    frame: {}, layout: LAYOUT, views: [view(11), view(12)], corrected_keypoints: [],
  });
}

const ANSWER = { view: 11, part: "face", model: "face.pt", iterations: 10,
  suggestions: { 1: [102, 99], 2: [110.1, 100], 3: [125, 104] } };

describe("suggestions", () => {
  it("a fresh state has none; set keeps only finite points of the answer's view", () => {
    const s = state();
    assert.equal(s.suggestions, null);
    assert.equal(G.hasSuggestions(s), false);
    G.setSuggestions(s, { ...ANSWER, suggestions: { ...ANSWER.suggestions, 4: [Number.NaN, 1] } });
    assert.equal(G.hasSuggestions(s), true);
    assert.equal(G.hasSuggestions(s, 11), true);
    assert.equal(G.hasSuggestions(s, "11"), true);
    assert.equal(G.hasSuggestions(s, 12), false);
    assert.deepEqual(G.suggestionRows(s).map((x) => x.k), [1, 2, 3]);
    assert.deepEqual(G.suggestionsIn(s, 11).map((x) => x.k), [1, 3]); // 2 moves its point 0.1 px: hidden
    assert.deepEqual(G.suggestionsIn(s, 12), []);
    assert.equal(s.suggestions.model, "face.pt");
    G.setSuggestions(s, { view: 11, suggestions: {} });
    assert.equal(s.suggestions, null);
  });

  it("accept all returns the corrections that move a keypoint and clears the suggestions", () => {
    const s = state();
    G.setSuggestions(s, ANSWER);
    const writes = G.acceptAllSuggestions(s);
    // keypoint 2's suggestion is 0.1 px from where it is drawn: nothing to write.
    assert.deepEqual(writes, [{ view: 11, k: 1, x: 102, y: 99 }, { view: 11, k: 3, x: 125, y: 104 }]);
    assert.equal(s.suggestions, null);
    assert.deepEqual(G.acceptAllSuggestions(s), []);
  });

  it("accept all measures from the annotator's drop, and keeps the dropped point", () => {
    const s = state();
    S.dropKeypoint(s, 11, 1, 102, 99);
    G.setSuggestions(s, ANSWER);
    assert.equal(G.suggestionRows(s)[0].moves, 0);
    assert.deepEqual(G.acceptAllSuggestions(s).map((w) => w.k), [3]);
  });

  it("accept one returns its correction, forgets it, and the last one clears the set", () => {
    const s = state();
    G.setSuggestions(s, { ...ANSWER, suggestions: { 1: [102, 99], 3: [125, 104] } });
    assert.deepEqual(G.acceptSuggestion(s, 3), { view: 11, k: 3, x: 125, y: 104 });
    assert.deepEqual(G.suggestionsIn(s, 11).map((x) => x.k), [1]);
    assert.equal(G.acceptSuggestion(s, 3), null);
    assert.deepEqual(G.acceptSuggestion(s, "1"), { view: 11, k: 1, x: 102, y: 99 });
    assert.equal(s.suggestions, null);
    assert.equal(G.acceptSuggestion(s, 1), null);
  });

  it("dismiss drops them all without writing anything", () => {
    const s = state();
    G.setSuggestions(s, ANSWER);
    G.dismissSuggestions(s);
    assert.equal(s.suggestions, null);
    assert.equal(s.pending.length, 0);
  });

  it("hit testing finds the nearest suggestion within the radius, in its view only", () => {
    const s = state();
    G.setSuggestions(s, ANSWER);
    assert.equal(G.nearestSuggestion(s, 11, 124, 103, 5), 3);
    // Keypoint 2's suggestion moves it 0.1 px: hidden, so not hit, until the annotator shows every suggestion.
    assert.equal(G.nearestSuggestion(s, 11, 111, 100, 5), -1);
    G.setHideUnder(s, 0);
    assert.equal(G.nearestSuggestion(s, 11, 111, 100, 5), 2);
    assert.equal(G.nearestSuggestion(s, 11, 500, 500, 5), -1);
    assert.equal(G.nearestSuggestion(s, 12, 124, 103, 5), -1);
  });

  it("rows say how far each suggestion moves its point and hide those under the distance", () => {
    const s = state();
    G.setSuggestions(s, { ...ANSWER, source: "pretrained", label: "MediaPipe", reason: "default", score: 0.9 });
    assert.equal(s.suggestions.source, "pretrained");
    assert.equal(s.suggestions.score, 0.9);
    const rows = G.suggestionRows(s);
    assert.deepEqual(rows.map((r) => r.k), [1, 2, 3]);
    assert.ok(Math.abs(rows[0].moves - Math.hypot(2, 1)) < 1e-9);
    assert.deepEqual(rows.map((r) => r.hidden), [false, true, false]);
    assert.deepEqual(G.suggestionsIn(s, 11).map((r) => r.k), [1, 3]);
    G.setHideUnder(s, 3);
    assert.deepEqual(G.suggestionsIn(s, 11).map((r) => r.k), [3]);
    assert.deepEqual(G.acceptAllSuggestions(s), [{ view: 11, k: 3, x: 125, y: 104 }]); // hidden ones are not written
    assert.equal(s.suggestions, null);
    G.setHideUnder(s, "nonsense");
    assert.equal(G.hideUnder(s), G.DEFAULT_HIDE_UNDER_PX);
  });

  it("accept all never touches a point the annotator corrected or flagged in that view", () => {
    const s = state();
    S.dropKeypoint(s, 11, 1, 101, 101); // a manual drag of keypoint 1 in view 11
    s.views[0].flags[3] = "unsure"; // an "unsure" flag on keypoint 3 in view 11
    s.views[1].flags[2] = "occluded"; // a flag in another view protects nothing here
    G.setSuggestions(s, { ...ANSWER, suggestions: { 1: [102, 99], 2: [113, 100], 3: [125, 104] } });
    assert.deepEqual(G.suggestionRows(s).map((r) => r.kept), ["corrected", null, "unsure"]);
    assert.deepEqual(G.acceptAllSuggestions(s), [{ view: 11, k: 2, x: 113, y: 100 }]);
    // The kept ones stay suggested, for the annotator to pick one by one.
    assert.deepEqual(G.suggestionsIn(s, 11).map((r) => [r.k, r.kept]), [[1, "corrected"], [3, "unsure"]]);
    assert.deepEqual(G.acceptSuggestion(s, 3), { view: 11, k: 3, x: 125, y: 104 });
    assert.deepEqual(G.acceptAllSuggestions(s), []);
    assert.deepEqual(G.suggestionsIn(s, 11).map((r) => r.k), [1]);
  });

  it("survives toData/fromData", () => {
    const s = state();
    G.setSuggestions(s, ANSWER);
    const back = S.fromData(S.toData(s));
    assert.deepEqual(G.suggestionsIn(back, 11), G.suggestionsIn(s, 11));
  });
});
