// The FBI labeller's state, plain data in and out (no DOM): which image and bone are asked now, the answers
// so far, and the clock. HEMlets' flow (PoSh Fig. 6): one image at a time, one bone at a time; an answer
// moves to the next unanswered bone of the image, and after the image's last bone to the next image that
// still has questions. Every function returns a new state; `answer` also returns the record to send
// ({view, parent, child, label, seconds}), where seconds run from the previous answer or from the moment
// the image was shown, whichever is later, so the seconds of an image's answers add up to its time.

export const LABELS = ["forward", "backward", "unknown", "skipped"];

/** Keyboard: key -> action. Forward = the child joint is nearer the camera than the parent. */
export const KEYMAP = {
  f: { type: "answer", label: "forward" },
  ArrowUp: { type: "answer", label: "forward" },
  b: { type: "answer", label: "backward" },
  ArrowDown: { type: "answer", label: "backward" },
  u: { type: "answer", label: "unknown" },
  s: { type: "answer", label: "skipped" },
  " ": { type: "answer", label: "skipped" },
  ArrowRight: { type: "next-bone" },
  ArrowLeft: { type: "prev-bone" },
  n: { type: "next-image" },
  p: { type: "prev-image" },
};

/** The action of a key (KeyboardEvent.key), or null. Letters ignore case. */
export function keyAction(key) {
  if (key in KEYMAP) return KEYMAP[key];
  const lower = typeof key === "string" && key.length === 1 ? key.toLowerCase() : key;
  return KEYMAP[lower] ?? null;
}

export const answerKey = (view, parent, child) => `${view}:${parent}:${child}`;

/** A state from the server's payload (GET /api/tasks/<id>/fbi/) at time `now` (ms). */
export function createState(payload, now) {
  const answers = {};
  for (const a of payload.answers ?? []) answers[answerKey(a.view, a.parent, a.child)] = a.label;
  const viewSeconds = {};
  for (const [view, s] of Object.entries(payload.seconds_per_view ?? {})) viewSeconds[view] = s;
  const state = {
    views: payload.views.map((v) => ({ id: v.id, camera: v.camera })),
    bones: payload.bones.pairs.map(([p, c]) => [p, c]),
    answers,
    viewSeconds,
    viewIndex: 0,
    boneIndex: 0,
    markedAt: now,
    canEdit: Boolean(payload.can_edit),
  };
  return firstOpen(state, 0);
}

/** The image (view id) and bone asked now. */
export function current(state) {
  const [parent, child] = state.bones[state.boneIndex];
  return { view: state.views[state.viewIndex].id, parent, child, viewIndex: state.viewIndex, boneIndex: state.boneIndex };
}

/** The answer given for bone `b` of view index `v` (default: the current ones), or null. */
export function answerOf(state, v = state.viewIndex, b = state.boneIndex) {
  const [parent, child] = state.bones[b];
  return state.answers[answerKey(state.views[v].id, parent, child)] ?? null;
}

/** Answered and total bones of view index `v`. */
export function viewProgress(state, v) {
  let answered = 0;
  for (let b = 0; b < state.bones.length; b++) if (answerOf(state, v, b) !== null) answered++;
  return { answered, total: state.bones.length };
}

/** Answered and total (view, bone) pairs of the task. */
export function progress(state) {
  let answered = 0;
  state.views.forEach((_, v) => {
    answered += viewProgress(state, v).answered;
  });
  return { answered, total: state.views.length * state.bones.length };
}

export function isComplete(state) {
  const { answered, total } = progress(state);
  return answered === total;
}

/** Answers by label over the whole task. */
export function counts(state) {
  const out = Object.fromEntries(LABELS.map((l) => [l, 0]));
  for (const label of Object.values(state.answers)) out[label] = (out[label] ?? 0) + 1;
  return out;
}

// The first unanswered bone from view index `v` (its first bone on), wrapping over the images; the current
// position when everything is answered.
function firstOpen(state, v, fromBone = 0) {
  const V = state.views.length;
  const B = state.bones.length;
  for (let i = 0; i < V; i++) {
    const vi = (v + i) % V;
    for (let b = i === 0 ? fromBone : 0; b < B; b++) {
      if (answerOf(state, vi, b) === null) return { ...state, viewIndex: vi, boneIndex: b };
    }
  }
  return state;
}

/**
 * Record `label` for the current bone at time `now` (ms). Returns {state, record}: the next question
 * (next open bone of this image, else of the next image) and the answer to send to the server.
 */
export function answer(state, label, now) {
  if (!LABELS.includes(label)) throw new Error(`unknown label ${label}`);
  const { view, parent, child } = current(state);
  const seconds = Math.max(0, (now - state.markedAt) / 1000);
  const record = { view, parent, child, label, seconds: Math.round(seconds * 1000) / 1000 };
  const answers = { ...state.answers, [answerKey(view, parent, child)]: label };
  const viewSeconds = { ...state.viewSeconds, [view]: (state.viewSeconds[view] ?? 0) + record.seconds };
  const next = { ...state, answers, viewSeconds, markedAt: now };
  // After an image's last open bone the next image appears; its clock starts now (markedAt above).
  return { state: firstOpen(next, state.viewIndex, state.boneIndex + 1), record };
}

/** Undo the local effect of an answer the server refused (the previous label, or none). */
export function revert(state, record, previous) {
  const answers = { ...state.answers };
  const key = answerKey(record.view, record.parent, record.child);
  if (previous === null || previous === undefined) delete answers[key];
  else answers[key] = previous;
  const viewSeconds = { ...state.viewSeconds, [record.view]: Math.max(0, (state.viewSeconds[record.view] ?? 0) - record.seconds) };
  const v = state.views.findIndex((x) => x.id === record.view);
  const b = state.bones.findIndex(([p, c]) => p === record.parent && c === record.child);
  return { ...state, answers, viewSeconds, viewIndex: v, boneIndex: b };
}

/** Move to bone index `b` of the current image (clamped); the clock keeps running. */
export function goToBone(state, b) {
  return { ...state, boneIndex: Math.min(Math.max(b, 0), state.bones.length - 1) };
}

export const nextBone = (state) => goToBone(state, state.boneIndex + 1);
export const prevBone = (state) => goToBone(state, state.boneIndex - 1);

/** Show image index `v` (wrapping) at `now`: its first open bone, and its clock starts. */
export function goToView(state, v, now) {
  const V = state.views.length;
  const vi = ((v % V) + V) % V;
  const moved = { ...state, viewIndex: vi, markedAt: now };
  for (let b = 0; b < state.bones.length; b++) {
    if (answerOf(moved, vi, b) === null) return { ...moved, boneIndex: b };
  }
  return { ...moved, boneIndex: 0 };
}

export const nextView = (state, now) => goToView(state, state.viewIndex + 1, now);
export const prevView = (state, now) => goToView(state, state.viewIndex - 1, now);

/** Jump to a view id and bone (a link from the review dashboard); unknown ones leave the state as it is. */
export function focus(state, viewId, parent, child, now) {
  const v = state.views.findIndex((x) => x.id === viewId);
  if (v < 0) return state;
  const moved = goToView(state, v, now);
  const b = state.bones.findIndex(([p, c]) => p === parent && c === child);
  return b < 0 ? moved : { ...moved, boneIndex: b };
}
