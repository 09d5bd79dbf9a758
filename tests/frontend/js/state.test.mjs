// state.js: plain data in, plain data out (no DOM). The layout here is a tiny made-up one: the
// module must work with whatever layout the server sends.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as S from "../../../frontend/static/frontend/js/state.js";
import { LAYOUT, N, payload } from "./task-payload.mjs";

const answer = (revision, x = 150, y = 210) => ({
  revision,
  point_3d: [1, 2, 3],
  reprojections: { 11: [149, 209], 12: [171, 205] },
  residuals: { 11: 1.4, 12: 12.5 },
  flagged_views: [12],
  correction: { view: 11, keypoint: 2, x, y, flag: "visible", kind: "move" },
});

describe("createState", () => {
  it("takes the task, views and layout from the payload", () => {
    const s = S.createState(payload(), { user: "ann" });
    assert.equal(s.task.revision, 3);
    assert.equal(s.views.length, 2);
    assert.equal(s.layout.names.length, N);
    assert.equal(s.focus, "body");
    assert.deepEqual(s.zoom[11], { k: 1, cx: 500, cy: 501 });
    assert.equal(s.status.text, "saved (revision 3)");
    assert.equal(S.isReadOnly(s), false);
  });
  it("is read-only without the lock or without the right to edit", () => {
    const p = payload();
    p.lock = { holder: "other", mine: false };
    assert.equal(S.isReadOnly(S.createState(p)), true);
    const q = payload();
    q.can_edit = false;
    assert.equal(S.isReadOnly(S.createState(q)), true);
  });
});

describe("toData / fromData", () => {
  it("round-trips a state with drops, answers and pending writes", () => {
    const s = S.createState(payload(), { user: "ann" });
    S.dropKeypoint(s, 11, 2, 150, 210);
    S.applyCorrectionAnswer(s, answer(4));
    S.select(s, 5);
    S.setZoom(s, 12, { k: 3, cx: 10, cy: 20 });
    S.enqueue(s, { kind: "correction", path: "/c/", body: { view: 11, keypoint: 1, x: 1, y: 2 }, label: "l_eye" });
    const data = S.toData(s);
    const back = S.fromData(JSON.parse(JSON.stringify(data)));
    assert.deepEqual(back, s);
    assert.notEqual(back.views, s.views, "a copy, not the same objects");
  });
  it("refuses data that is not a state", () => {
    assert.throws(() => S.fromData({ views: [] }), /lacks "layout"/);
  });
});

describe("applyCorrectionAnswer", () => {
  it("moves the keypoint in every view, keeps the drop, records ghosts, residuals and flags", () => {
    const s = S.createState(payload());
    S.dropKeypoint(s, 11, 2, 150, 210);
    S.applyCorrectionAnswer(s, answer(4));
    assert.equal(s.task.revision, 4);
    assert.deepEqual(s.views[1].current[2], [171, 205], "the other view shows the reprojection");
    assert.deepEqual(S.position(s.views[1], 2), [171, 205]);
    assert.deepEqual(S.position(s.views[0], 2), [150, 210], "the corrected view keeps the drop");
    assert.deepEqual(s.views[0].current[2], [149, 209]);
    assert.equal(s.views[0].corrected[2], true);
    assert.equal(s.views[1].corrected[2], false);
    assert.deepEqual(s.ghosts[2], { 11: [149, 209], 12: [171, 205] });
    assert.deepEqual(s.flagged[2], ["12"]);
    assert.equal(S.maxResidual(s, 2), 12.5);
    assert.deepEqual(s.task.corrected_keypoints, [2]);
  });
  it("applies a reset (x = null) by forgetting the drop", () => {
    const s = S.createState(payload());
    S.applyCorrectionAnswer(s, answer(4));
    S.applyCorrectionAnswer(s, { ...answer(5, null, null), reprojections: { 11: [120, 200], 12: [125, 200] } });
    assert.equal(s.views[0].corrected[2], false);
    assert.deepEqual(S.position(s.views[0], 2), [120, 200]);
    assert.deepEqual(s.task.corrected_keypoints, []);
  });
  it("undo answers forget the drop but move the reprojections", () => {
    const s = S.createState(payload());
    S.applyCorrectionAnswer(s, answer(4));
    S.applyCorrectionAnswer(s, { ...answer(5), reprojections: { 11: [120, 200], 12: [125, 200] } }, { undo: true });
    assert.deepEqual(S.position(s.views[0], 2), [120, 200]);
    assert.deepEqual(S.position(s.views[1], 2), [125, 200]);
  });
  it("never moves the revision backwards", () => {
    const s = S.createState(payload(9));
    S.applyCorrectionAnswer(s, answer(4));
    assert.equal(s.task.revision, 9);
  });
  it("sets the flag of the corrected view", () => {
    const s = S.createState(payload());
    const a = answer(4);
    a.correction.flag = "occluded";
    S.applyCorrectionAnswer(s, a);
    assert.equal(s.views[0].flags[2], "occluded");
    assert.equal(s.views[1].flags[2], "visible");
  });
});

describe("applyServerState", () => {
  it("replaces the server's data and keeps selection, zoom, pending writes and live drops", () => {
    const s = S.createState(payload());
    S.dropKeypoint(s, 11, 2, 150, 210);
    S.applyCorrectionAnswer(s, answer(4));
    S.dropKeypoint(s, 11, 6, 500, 500);
    S.select(s, 1);
    S.setZoom(s, 11, { k: 2, cx: 1, cy: 2 });
    S.enqueue(s, { kind: "part", path: "/p/", body: {}, label: "x" });
    const fresh = payload(6);
    fresh.views[0].corrected[2] = true; // keypoint 6's drop was not saved: the server does not know it
    fresh.views[0].current[2] = [149, 209];
    S.applyServerState(s, fresh);
    assert.equal(s.task.revision, 6);
    assert.equal(s.selection, 1);
    assert.deepEqual(s.zoom[11], { k: 2, cx: 1, cy: 2 });
    assert.equal(s.pending.length, 1);
    assert.deepEqual(S.position(s.views[0], 2), [150, 210]);
    assert.deepEqual(S.position(s.views[0], 6), [160, 200], "an unsaved drop the server lost is dropped");
  });
  it("forgets ghosts of keypoints no longer corrected", () => {
    const s = S.createState(payload());
    S.applyCorrectionAnswer(s, answer(4));
    S.applyServerState(s, payload(5));
    assert.deepEqual(s.ghosts, {});
    assert.deepEqual(s.residuals, {});
  });
});

describe("parts, lock, status", () => {
  it("applies a part answer", () => {
    const s = S.createState(payload());
    S.applyPartAnswer(s, { revision: 4, view: 12, part: "face", valid: false });
    assert.equal(s.views[1].part_valid.face, false);
    assert.equal(S.isValidIn(s, s.views[1], 4), false);
    assert.equal(S.isValidIn(s, s.views[1], 0), true);
    assert.equal(S.isValidIn(s, s.views[0], 4), true);
    assert.equal(s.task.revision, 4);
  });
  it("applies lock and status messages", () => {
    const s = S.createState(payload());
    S.applyLock(s, { holder: "rev", mine: false, can_edit: true });
    assert.equal(S.isReadOnly(s), true);
    S.applyStatus(s, { status: "submitted" });
    assert.equal(s.task.status, "submitted");
  });
});

describe("selection and focus", () => {
  it("steps through the focused part cyclically; other parts join the first focus part", () => {
    const s = S.createState(payload());
    assert.deepEqual(S.focusMembers(LAYOUT, "body"), [0, 1, 2, 3]);
    S.selectStep(s, 1);
    assert.equal(s.selection, 0);
    S.selectStep(s, -1);
    assert.equal(s.selection, 3);
    S.selectStep(s, 1);
    assert.equal(s.selection, 0);
  });
  it("selecting a keypoint focuses its part; focusing another part clears the selection", () => {
    const s = S.createState(payload());
    S.select(s, 7);
    assert.equal(s.focus, "left_hand");
    S.setFocus(s, "face");
    assert.equal(s.selection, null);
    assert.throws(() => S.setFocus(s, "tail"), /unknown focus part/);
  });
});

describe("pending writes", () => {
  it("keeps writes in order until each is answered; failures stay and count attempts", () => {
    const s = S.createState(payload());
    const a = S.enqueue(s, { kind: "correction", path: "/c/", body: { x: 1 }, label: "a" });
    const b = S.enqueue(s, { kind: "part", path: "/p/", body: { valid: false }, label: "b" });
    assert.notEqual(a.id, b.id);
    assert.equal(S.headWrite(s).id, a.id);
    S.failWrite(s, a.id);
    S.failWrite(s, a.id);
    assert.equal(S.headWrite(s).attempts, 2, "a failed write stays at the head");
    S.completeWrite(s, a.id);
    assert.equal(S.headWrite(s).id, b.id);
    S.completeWrite(s, b.id);
    assert.equal(S.headWrite(s), null);
  });
  it("copies the body so later state changes do not alter a queued write", () => {
    const s = S.createState(payload());
    const body = { x: 1 };
    S.enqueue(s, { kind: "correction", path: "/c/", body, label: "a" });
    body.x = 2;
    assert.equal(S.headWrite(s).body.x, 1);
  });
  it("clears the queue after a conflict and says how many were dropped", () => {
    const s = S.createState(payload());
    S.enqueue(s, { kind: "correction", path: "/c/", body: {}, label: "a" });
    S.enqueue(s, { kind: "correction", path: "/c/", body: {}, label: "b" });
    assert.equal(S.clearPending(s), 2);
    assert.equal(s.pending.length, 0);
  });
  it("survives toData/fromData (a reload of the queue)", () => {
    const s = S.createState(payload());
    S.enqueue(s, { kind: "undo", path: "/u/", body: {}, label: "undo" });
    const back = S.fromData(S.toData(s));
    assert.equal(S.headWrite(back).kind, "undo");
    assert.equal(S.enqueue(back, { kind: "redo", path: "/r/", body: {}, label: "redo" }).id, 2);
  });
});
