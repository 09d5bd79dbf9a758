// fbi-state.js: the FBI labeller's flow and clock, plain data (no DOM).

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as F from "../../../frontend/static/frontend/js/fbi-state.js";

function payload(answers = [], canEdit = true) {
  return {
    views: [{ id: 11, camera: "54138969" }, { id: 12, camera: "55011271" }],
    bones: { subset: "test", pairs: [[5, 7], [7, 9], [11, 13]] },
    answers,
    seconds_per_view: {},
    can_edit: canEdit,
  };
}

describe("keys", () => {
  it("maps HEMlets' keys to actions", () => {
    assert.deepEqual(F.keyAction("f"), { type: "answer", label: "forward" });
    assert.deepEqual(F.keyAction("F"), { type: "answer", label: "forward" });
    assert.deepEqual(F.keyAction("ArrowUp"), { type: "answer", label: "forward" });
    assert.deepEqual(F.keyAction("ArrowDown"), { type: "answer", label: "backward" });
    assert.deepEqual(F.keyAction("b"), { type: "answer", label: "backward" });
    assert.deepEqual(F.keyAction("u"), { type: "answer", label: "unknown" });
    assert.deepEqual(F.keyAction(" "), { type: "answer", label: "skipped" });
    assert.deepEqual(F.keyAction("s"), { type: "answer", label: "skipped" });
    assert.deepEqual(F.keyAction("n"), { type: "next-image" });
    assert.equal(F.keyAction("x"), null);
    assert.equal(F.keyAction("Shift"), null);
  });
});

describe("flow", () => {
  it("starts at the first open bone and walks bone by bone, then image by image", () => {
    let s = F.createState(payload(), 0);
    assert.deepEqual(F.current(s), { view: 11, parent: 5, child: 7, viewIndex: 0, boneIndex: 0 });
    let r = F.answer(s, "forward", 1500);
    assert.deepEqual(r.record, { view: 11, parent: 5, child: 7, label: "forward", seconds: 1.5 });
    s = r.state;
    assert.equal(F.current(s).child, 9);
    s = F.answer(s, "backward", 2500).state;
    r = F.answer(s, "unknown", 4000);
    assert.equal(r.record.seconds, 1.5);
    s = r.state;
    // The image is done: the next one is asked, from its first bone.
    assert.deepEqual(F.current(s), { view: 12, parent: 5, child: 7, viewIndex: 1, boneIndex: 0 });
    assert.deepEqual(F.viewProgress(s, 0), { answered: 3, total: 3 });
    assert.deepEqual(F.progress(s), { answered: 3, total: 6 });
    assert.equal(s.viewSeconds[11], 4);
    assert.equal(F.isComplete(s), false);
  });

  it("resumes where the server's answers stop and wraps to skipped-over bones", () => {
    const s = F.createState(payload([{ view: 11, parent: 5, child: 7, label: "forward" }]), 0);
    assert.equal(F.current(s).child, 9);
    assert.equal(F.answerOf(s, 0, 0), "forward");
    // Jump ahead, answer the last bone of image 2, and the flow comes back to the open ones.
    let t = F.goToView(s, 1, 100);
    t = F.goToBone(t, 2);
    t = F.answer(t, "skipped", 600).state;
    assert.deepEqual([F.current(t).view, F.current(t).child], [11, 9]);
  });

  it("completes when every bone of every image has an answer, and counts them", () => {
    let s = F.createState(payload(), 0);
    const labels = ["forward", "backward", "unknown", "skipped", "forward", "forward"];
    labels.forEach((l, i) => {
      s = F.answer(s, l, 1000 * (i + 1)).state;
    });
    assert.equal(F.isComplete(s), true);
    assert.deepEqual(F.counts(s), { forward: 3, backward: 1, unknown: 1, skipped: 1 });
    assert.equal(s.viewSeconds[11] + s.viewSeconds[12], 6);
  });

  it("starts an image's clock when it is shown", () => {
    let s = F.createState(payload(), 0);
    s = F.nextView(s, 10_000);
    assert.equal(F.current(s).view, 12);
    const { record } = F.answer(s, "forward", 11_200);
    assert.equal(record.seconds, 1.2);
    assert.equal(F.prevView(F.prevView(s, 0), 0).viewIndex, 1); // wraps
  });

  it("moves between bones within an image, clamped", () => {
    const s = F.createState(payload(), 0);
    assert.equal(F.prevBone(s).boneIndex, 0);
    assert.equal(F.nextBone(F.nextBone(F.nextBone(s))).boneIndex, 2);
  });

  it("reverts an answer the server refused", () => {
    const s = F.createState(payload(), 0);
    const { state, record } = F.answer(s, "forward", 2000);
    const back = F.revert(state, record, null);
    assert.equal(F.answerOf(back, 0, 0), null);
    assert.deepEqual([back.viewIndex, back.boneIndex], [0, 0]);
    assert.equal(back.viewSeconds[11], 0);
  });

  it("focuses a view and bone from a link, ignoring unknown ones", () => {
    const s = F.createState(payload(), 0);
    const f = F.focus(s, 12, 11, 13, 0);
    assert.deepEqual([F.current(f).view, F.current(f).child], [12, 13]);
    assert.equal(F.focus(s, 99, 5, 7, 0), s);
    assert.throws(() => F.answer(s, "sideways", 1), /unknown label/);
  });
});
