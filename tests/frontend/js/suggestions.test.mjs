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
    assert.deepEqual(G.suggestionsIn(s, 11).map((x) => x.k), [1, 2, 3]);
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

  it("accept all measures from the annotator's drop where there is one", () => {
    const s = state();
    S.dropKeypoint(s, 11, 1, 102, 99);
    G.setSuggestions(s, ANSWER);
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
    assert.equal(G.nearestSuggestion(s, 11, 111, 100, 5), 2);
    assert.equal(G.nearestSuggestion(s, 11, 500, 500, 5), -1);
    assert.equal(G.nearestSuggestion(s, 12, 124, 103, 5), -1);
  });

  it("survives toData/fromData", () => {
    const s = state();
    G.setSuggestions(s, ANSWER);
    const back = S.fromData(S.toData(s));
    assert.deepEqual(G.suggestionsIn(back, 11), G.suggestionsIn(s, 11));
  });
});
