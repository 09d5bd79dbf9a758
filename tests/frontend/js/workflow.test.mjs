// The editor's daily-workflow logic as plain data: undo/redo depths, parts shown and hidden, the skeleton's
// opacity, the next view to correct, the reviewer's comment, dense-part marker sizes and the part focus zoom.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as G from "../../../frontend/static/frontend/js/geometry.js";
import { markerRadii } from "../../../frontend/static/frontend/js/render.js";
import * as S from "../../../frontend/static/frontend/js/state.js";

const LAYOUT = {
  names: ["nose", "l_eye", "r_eye", "chin", "brow", "lip"],
  parts: { body: [0, 3], face: [3, 6] },
  part_of: ["body", "body", "body", "face", "face", "face"],
  focus_parts: ["body", "face"],
  validity_parts: ["face"],
  links: [[0, 1, "body"]],
  colors: { body: "#3399ff", face: "#f72205" },
};

function payload(extra = {}) {
  const view = (id) => ({
    id, camera: `cam${id}`, image_url: "", width: 1000, height: 1000, camera_params: {},
    base: LAYOUT.names.map((_, k) => [100 + 10 * k, 100]), current: LAYOUT.names.map((_, k) => [100 + 10 * k, 100]),
    part_valid: { face: true },
  });
  return { id: 1, status: "in_progress", revision: 2, can_edit: true, lock: { holder: "ann", mine: true },
    frame: {}, layout: LAYOUT, views: [view(11), view(12), view(13)], ...extra };
}

describe("undo and redo depths", () => {
  it("start from the server's and follow queued writes by the server's rule", () => {
    const s = S.createState(payload({ undo_depth: 1, redo_depth: 0 }));
    assert.deepEqual(S.undoDepths(s), { undo: 1, redo: 0 });
    S.enqueue(s, { kind: "undo", path: "/u/", body: {}, label: "undo" });
    assert.deepEqual(S.undoDepths(s), { undo: 0, redo: 1 });
    S.enqueue(s, { kind: "undo", path: "/u/", body: {}, label: "undo" }); // nothing left: no change
    assert.deepEqual(S.undoDepths(s), { undo: 0, redo: 1 });
    S.enqueue(s, { kind: "correction", path: "/c/", body: {}, label: "x" });
    assert.deepEqual(S.undoDepths(s), { undo: 1, redo: 0 });
  });
  it("count answered writes until a fresh payload replaces them", () => {
    const s = S.createState(payload());
    assert.deepEqual(S.undoDepths(s), { undo: 0, redo: 0 });
    S.noteAnswered(s, "part");
    S.noteAnswered(s, "correction");
    S.noteAnswered(s, "undo");
    assert.deepEqual(S.undoDepths(s), { undo: 1, redo: 1 });
    S.noteAnswered(s, "submit");
    assert.deepEqual(S.undoDepths(s), { undo: 1, redo: 1 });
    S.applyServerState(s, payload({ undo_depth: 4, redo_depth: 0 }));
    assert.deepEqual(S.undoDepths(s), { undo: 4, redo: 0 });
  });
});

describe("parts shown and opacity", () => {
  it("hides a part and drops a selection in it", () => {
    const s = S.createState(payload());
    S.select(s, 4);
    S.togglePartShown(s, "face");
    assert.equal(S.isShown(s, 4), false);
    assert.equal(S.isShown(s, 0), true);
    assert.equal(s.selection, null);
    S.togglePartShown(s, "face");
    assert.equal(S.isShown(s, 4), true);
    assert.throws(() => S.togglePartShown(s, "tail"), /unknown part/);
  });
  it("keeps the opacity within [0.1, 1]", () => {
    const s = S.createState(payload());
    assert.equal(s.opacity, 1);
    assert.equal(S.setOpacity(s, 0.4).opacity, 0.4);
    assert.equal(S.setOpacity(s, 0).opacity, 0.1);
    assert.equal(S.setOpacity(s, "x").opacity, 1);
  });
});

describe("nextFlaggedView", () => {
  it("goes round the flagged views that are not corrected yet, after the active one", () => {
    const s = S.createState(payload());
    s.flagged[2] = ["12", "13"];
    assert.equal(S.nextFlaggedView(s, 2, 11), 12);
    assert.equal(S.nextFlaggedView(s, 2, 12), 13);
    assert.equal(S.nextFlaggedView(s, 2, 13), 12);
    s.views[1].corrected[2] = true;
    assert.equal(S.nextFlaggedView(s, 2, 11), 13);
    s.views[2].corrected[2] = true;
    assert.equal(S.nextFlaggedView(s, 2, 11), null);
    assert.equal(S.nextFlaggedView(s, null, 11), null);
  });
  it("skips views where the keypoint's part is not annotatable", () => {
    const s = S.createState(payload());
    s.flagged[4] = ["12"];
    s.views[1].part_valid.face = false;
    assert.equal(S.nextFlaggedView(s, 4, 11), null);
  });
});

describe("reviewCommentShown", () => {
  it("while rejected or in progress again, not once submitted", () => {
    const s = S.createState(payload({ status: "rejected", review_comment: "fix the wrist" }));
    assert.equal(S.reviewCommentShown(s), true);
    S.applyStatus(s, { status: "in_progress" });
    assert.equal(S.reviewCommentShown(s), true);
    S.applyStatus(s, { status: "submitted" });
    assert.equal(S.reviewCommentShown(s), false);
    S.applyStatus(s, { status: "in_progress", review_comment: "" });
    assert.equal(S.reviewCommentShown(s), false);
  });
});

describe("medianSpacing and focusZoom", () => {
  const grid = Array.from({ length: 9 }, (_, i) => [100 + 2 * (i % 3), 200 + 2 * Math.floor(i / 3)]);
  it("measures the median nearest-neighbour distance", () => {
    assert.equal(G.medianSpacing(grid), 2);
    assert.equal(G.medianSpacing([[0, 0], null]), null);
    assert.equal(G.medianSpacing([[0, 0], [3, 4]]), 5);
  });
  it("zooms until neighbours are minSpacing screen px apart, centred where asked", () => {
    const viewport = [500, 500];
    const image = [1000, 1000];
    const z = G.focusZoom(grid, undefined, image, viewport, { minSpacing: 10 });
    const t = G.viewTransform(z, image, viewport);
    assert.ok(2 * t.s >= 10 - 1e-9, `spacing on screen ${2 * t.s}`);
    assert.deepEqual([z.cx, z.cy], [102, 202]);
    const c = G.focusZoom(grid, undefined, image, viewport, { centre: [100, 200] });
    assert.deepEqual([c.cx, c.cy], [100, 200]);
    // A spread-out part is framed whole: its box decides, not its spacing.
    const wide = [[0, 0], [600, 0], [0, 600], [600, 600]];
    const w = G.focusZoom(wide, undefined, image, viewport);
    assert.ok(w.k < 2, `k ${w.k}`);
    assert.equal(G.focusZoom([null], undefined, image, viewport), null);
  });
});

describe("markerRadii", () => {
  it("keeps body markers whole and shrinks dense parts' markers to their spacing on screen", () => {
    const layout = { parts: { body: [0, 2], face: [2, 42] } };
    const pos = [[0, 0], [50, 0], ...Array.from({ length: 40 }, (_, i) => [300 + (i % 8), 300 + Math.floor(i / 8)])];
    const far = markerRadii(layout, pos, 0.5); // face points 0.5 px apart on screen
    const near = markerRadii(layout, pos, 40); // 40 px apart
    assert.equal(far[0], near[0]);
    assert.ok(far[2] < 1.2 && near[2] > 3, `${far[2]} ${near[2]}`);
  });
});
