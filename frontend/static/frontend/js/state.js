// The editor's state as plain data: the task payload from the server plus what the browser adds
// (selection, focus, zoom per view, drop positions, reprojection ghosts, residuals, pending writes,
// status line). Every change is a function here; render.js draws a state, editor.js decides which
// function to call. No DOM, no network: node's test runner checks it (tests/frontend/js/).
//
// The keypoint layout (names, parts, links, colours) is the server's layout_json(), carried by the
// task payload; nothing here knows how many keypoints there are or what they are called.

import { fitZoom } from "./geometry.js";

/** Status line kinds. */
export const SAVED = "saved";
export const SAVING = "saving";
export const ERROR = "error";

/** Residual (px) from which a keypoint's reprojection in a view counts as bad when the server gives no list. */
export const RESIDUAL_WARN_PX = 10;

const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

function viewFromPayload(v, previous) {
  const n = v.current.length;
  // Where the annotator put each corrected keypoint: the server's record (payload "annotated"), else,
  // for payloads without it, this browser's drops for keypoints still corrected in that view.
  const annotated = {};
  if (v.annotated) {
    for (const [k, p] of Object.entries(v.annotated)) annotated[k] = clone(p);
  } else if (previous) {
    for (const [k, p] of Object.entries(previous.annotated)) {
      if (v.corrected[k]) annotated[k] = p;
    }
  }
  return {
    id: v.id,
    camera: v.camera,
    image_url: v.image_url,
    width: v.width,
    height: v.height,
    camera_params: v.camera_params,
    base: clone(v.base),
    current: clone(v.current),
    corrected: clone(v.corrected ?? new Array(n).fill(false)),
    flags: clone(v.flags ?? new Array(n).fill("visible")),
    part_valid: clone(v.part_valid ?? {}),
    annotated,
  };
}

function taskFromPayload(payload) {
  const { views, layout, ...task } = payload;
  return clone(task);
}

/** A fresh state from a task payload (GET /api/tasks/{id}/); `user` is the signed-in username. */
export function createState(payload, { user = null } = {}) {
  const state = {
    user,
    layout: clone(payload.layout),
    // Sample depths (mm) of epipolar curves for this rig's scale (annotator.geometry.rig_epipolar_depths).
    epipolarDepths: payload.epipolar_depths ? clone(payload.epipolar_depths) : null,
    task: taskFromPayload(payload),
    views: payload.views.map((v) => viewFromPayload(v, null)),
    ghosts: {},
    residuals: {},
    flagged: {},
    selection: null,
    focus: payload.layout.focus_parts[0],
    zoom: {},
    enlarged: null,
    filters: { brightness: 100, contrast: 100 },
    pending: [],
    suggestions: null, // the refiner's proposals, see suggestions.js
    hidden: {}, // part -> true for the parts not drawn (and not grabbed)
    opacity: 1, // of the skeleton drawn over the images
    nextWriteId: 1,
    status: { kind: SAVED, text: `saved (revision ${payload.revision})` },
    notice: null,
    connection: "connecting",
  };
  for (const v of state.views) state.zoom[v.id] = fitZoom([v.width, v.height]);
  return state;
}

/** Plain JSON data of a state (a deep copy). */
export function toData(state) {
  return clone(state);
}

/** A state from toData()'s output (a deep copy, checked for the fields the editor relies on). */
export function fromData(data) {
  for (const key of ["layout", "task", "views", "zoom", "pending"]) {
    if (!(key in data)) throw new Error(`state data lacks "${key}"`);
  }
  return clone(data);
}

/**
 * Replace the server's part of the state with a full task payload (a refresh, a 409's extra.state or a
 * websocket resync). Selection, focus, zoom, filters and pending writes are the browser's and stay;
 * drops, ghosts and residuals stay for keypoints that are still corrected.
 */
export function applyServerState(state, payload) {
  const byId = new Map(state.views.map((v) => [v.id, v]));
  state.layout = clone(payload.layout ?? state.layout);
  state.task = taskFromPayload(payload);
  state.views = payload.views.map((v) => viewFromPayload(v, byId.get(v.id)));
  const stillCorrected = (k) => state.views.some((v) => v.corrected[k]);
  for (const table of [state.ghosts, state.residuals, state.flagged]) {
    for (const k of Object.keys(table)) if (!stillCorrected(k)) delete table[k];
  }
  for (const v of state.views) {
    if (!state.zoom[v.id]) state.zoom[v.id] = fitZoom([v.width, v.height]);
  }
  if (state.enlarged !== null && !byId.has(state.enlarged)) state.enlarged = null;
  return state;
}

function viewById(state, id) {
  return state.views.find((v) => String(v.id) === String(id));
}

function noteCorrected(state, k) {
  const set = new Set(state.task.corrected_keypoints ?? []);
  if (state.views.some((v) => v.corrected[k])) set.add(k);
  else set.delete(k);
  state.task.corrected_keypoints = [...set].sort((a, b) => a - b);
}

/**
 * Apply the answer to a correction (POST .../corrections/, or a websocket "correction" message):
 * the revision, the re-triangulated keypoint's reprojection in every view (its new current position
 * and its ghost), the residuals and flagged views, and the corrected view's mark and flag.
 *
 * The corrected view keeps the drop position (this browser's or, from the websocket, another's).
 * Undo and redo answers pass `undo: true`: their correction entry names what was undone, not a drop,
 * so the view's drop is forgotten and the caller reloads the task for the authoritative marks.
 */
export function applyCorrectionAnswer(state, answer, { undo = false } = {}) {
  const c = answer.correction ?? {};
  const k = c.keypoint;
  if (answer.revision !== undefined) state.task.revision = Math.max(state.task.revision, answer.revision);
  if (k === undefined || k === null) return state;
  const reprojections = answer.reprojections ?? {};
  for (const v of state.views) {
    const p = reprojections[v.id] ?? reprojections[String(v.id)];
    if (p !== undefined) v.current[k] = p;
  }
  state.ghosts[k] = clone(reprojections);
  state.residuals[k] = clone(answer.residuals ?? {});
  state.flagged[k] = (answer.flagged_views ?? []).map(String);
  const view = c.view !== undefined ? viewById(state, c.view) : undefined;
  if (view) {
    const reset = c.x === null || c.x === undefined;
    if (undo) {
      delete view.annotated[k];
    } else {
      view.corrected[k] = !reset;
      if (c.flag) view.flags[k] = c.flag;
      if (reset) delete view.annotated[k];
      else view.annotated[k] = [c.x, c.y];
    }
  }
  noteCorrected(state, k);
  return state;
}

/** Apply a part-validity answer or message {revision, view, part, valid}. */
export function applyPartAnswer(state, answer) {
  if (answer.revision !== undefined) state.task.revision = Math.max(state.task.revision, answer.revision);
  const view = viewById(state, answer.view);
  if (view) view.part_valid[answer.part] = Boolean(answer.valid);
  return state;
}

/** Apply a lock message {holder, mine, can_edit}. */
export function applyLock(state, message) {
  state.task.lock = { holder: message.holder ?? null, mine: Boolean(message.mine) };
  if (message.can_edit !== undefined) state.task.can_edit = Boolean(message.can_edit);
  return state;
}

/** Apply a status message {status}. */
export function applyStatus(state, message) {
  state.task.status = message.status;
  if (message.review_comment !== undefined) state.task.review_comment = message.review_comment;
  if (message.revision !== undefined) state.task.revision = Math.max(state.task.revision, message.revision);
  return state;
}

// --- undo and redo depths --------------------------------------------------------------------------
//
// The server keeps each user's undo and redo stacks (selectors.task_undo_stacks) and sends their depths
// with the task (undo_depth, redo_depth). The editor adds the effect of its own writes as they are
// answered, and of those still queued, with the server's rule: a write pushes on the undo stack and
// empties the redo stack; undo moves one write to the redo stack, redo moves it back.

const WRITES_THAT_PUSH = new Set(["correction", "part"]);

function stepDepths(depths, kind) {
  const { undo, redo } = depths;
  if (WRITES_THAT_PUSH.has(kind)) return { undo: undo + 1, redo: 0 };
  if (kind === "undo" && undo > 0) return { undo: undo - 1, redo: redo + 1 };
  if (kind === "redo" && redo > 0) return { undo: undo + 1, redo: redo - 1 };
  return depths;
}

/** The depths once every queued write is answered: {undo, redo}; undo and redo buttons are off at 0. */
export function undoDepths(state) {
  let depths = { undo: state.task.undo_depth ?? 0, redo: state.task.redo_depth ?? 0 };
  for (const write of state.pending) depths = stepDepths(depths, write.kind);
  return depths;
}

/** Record that the server answered a write of `kind` (before or without a fresh task payload). */
export function noteAnswered(state, kind) {
  const depths = stepDepths({ undo: state.task.undo_depth ?? 0, redo: state.task.redo_depth ?? 0 }, kind);
  state.task.undo_depth = depths.undo;
  state.task.redo_depth = depths.redo;
  return state;
}

// --- what is drawn ---------------------------------------------------------------------------------

/** Show or hide a part's keypoints and links (hidden ones are not grabbed either). */
export function togglePartShown(state, part) {
  if (!(part in state.layout.parts)) throw new Error(`unknown part "${part}"`);
  if (state.hidden[part]) delete state.hidden[part];
  else state.hidden[part] = true;
  if (state.selection !== null && state.hidden[state.layout.part_of[state.selection]]) state.selection = null;
  return state;
}

/** Whether keypoint k is drawn (its part is not hidden). */
export function isShown(state, k) {
  return !state.hidden[state.layout.part_of[k]];
}

/** Opacity of the drawn skeleton, clamped to [0.1, 1] so that it never vanishes by accident. */
export function setOpacity(state, value) {
  const v = Number(value);
  state.opacity = Number.isFinite(v) ? Math.min(1, Math.max(0.1, v)) : 1;
  return state;
}

/** Whether this browser may change the task: it holds the lock and the server lets it edit. */
export function isReadOnly(state) {
  return !(state.task.can_edit && state.task.lock && state.task.lock.mine);
}

// --- where a keypoint is ---------------------------------------------------------------------------

/** Where keypoint k is drawn in view v: the annotator's drop if any, else the current projection. */
export function position(view, k) {
  return view.annotated[k] ?? view.current[k] ?? null;
}

/** The focus part that keypoint k belongs to (parts that are not focus parts go with the first one). */
export function focusPartOf(layout, k) {
  const part = layout.part_of[k];
  return layout.focus_parts.includes(part) ? part : layout.focus_parts[0];
}

/** Keypoint indices of a focus part, in layout order. */
export function focusMembers(layout, focus) {
  const out = [];
  for (let k = 0; k < layout.part_of.length; k++) if (focusPartOf(layout, k) === focus) out.push(k);
  return out;
}

/** Whether keypoint k may be dragged in view v: its part is not marked as not annotatable. */
export function isValidIn(state, view, k) {
  const part = state.layout.part_of[k];
  return view.part_valid[part] !== false;
}

// --- selection and focus ---------------------------------------------------------------------------

export function select(state, k) {
  state.selection = k === null || k === undefined ? null : Number(k);
  if (state.selection !== null) state.focus = focusPartOf(state.layout, state.selection);
  return state;
}

/** Select the next (step +1) or previous (-1) keypoint of the focused part, cyclically. */
export function selectStep(state, step) {
  const members = focusMembers(state.layout, state.focus);
  if (!members.length) return state;
  const at = members.indexOf(state.selection);
  const next = at < 0 ? (step > 0 ? 0 : members.length - 1) : (at + step + members.length) % members.length;
  state.selection = members[next];
  return state;
}

export function setFocus(state, part) {
  if (!state.layout.focus_parts.includes(part)) throw new Error(`unknown focus part "${part}"`);
  state.focus = part;
  if (state.selection !== null && focusPartOf(state.layout, state.selection) !== part) state.selection = null;
  return state;
}

export function setZoom(state, viewId, zoom) {
  state.zoom[viewId] = { k: zoom.k, cx: zoom.cx, cy: zoom.cy };
  return state;
}

export function resetZoom(state) {
  for (const v of state.views) state.zoom[v.id] = fitZoom([v.width, v.height]);
  return state;
}

/** Move keypoint k of view v to the drop position, before the server has answered. */
export function dropKeypoint(state, viewId, k, x, y) {
  const view = viewById(state, viewId);
  view.annotated[k] = [x, y];
  view.corrected[k] = true;
  return state;
}

// --- pending writes --------------------------------------------------------------------------------
//
// Every change the annotator makes is a write {id, kind, path, body, label, attempts}: queued here
// first, sent in order, removed only when the server has answered it (or refused it for good, which
// the status line says). A failed send stays at the head of the queue and is retried.

export function enqueue(state, { kind, path, body, label }) {
  const write = { id: state.nextWriteId++, kind, path, body: clone(body), label, attempts: 0 };
  state.pending.push(write);
  return write;
}

export function headWrite(state) {
  return state.pending[0] ?? null;
}

export function completeWrite(state, id) {
  state.pending = state.pending.filter((w) => w.id !== id);
  return state;
}

export function failWrite(state, id) {
  const write = state.pending.find((w) => w.id === id);
  if (write) write.attempts += 1;
  return state;
}

/** Drop every pending write (after a 409: they were based on a state that no longer exists). */
export function clearPending(state) {
  const dropped = state.pending.length;
  state.pending = [];
  return dropped;
}

export function setStatus(state, kind, text) {
  state.status = { kind, text };
  return state;
}

/** The status line once every write has been answered. */
export function settledStatus(state) {
  return setStatus(state, SAVED, `saved (revision ${state.task.revision})`);
}

/** Per-view residuals (px) of keypoint k: {viewId: px}, and the views flagged for it. */
export function residualsOf(state, k) {
  return { residuals: state.residuals[k] ?? {}, flagged: state.flagged[k] ?? [] };
}

/**
 * The view to correct keypoint k in next, after view `fromId` in view order (wrapping round): one whose
 * reprojection of k the server flagged (it disagrees with the re-triangulated point) and where k is not
 * corrected yet. Null when no such view is left.
 */
export function nextFlaggedView(state, k, fromId) {
  if (k === null || k === undefined) return null;
  const flagged = new Set((state.flagged[k] ?? []).map(String));
  const n = state.views.length;
  const at = state.views.findIndex((v) => String(v.id) === String(fromId));
  for (let step = 1; step <= n; step++) {
    const view = state.views[(at + step + n) % n];
    if (flagged.has(String(view.id)) && !view.corrected[k] && isValidIn(state, view, k)) return view.id;
  }
  return null;
}

/** Whether the annotator still has to read the reviewer's comment: sent back, not handed in again. */
export function reviewCommentShown(state) {
  return Boolean(state.task.review_comment) && ["rejected", "in_progress"].includes(state.task.status);
}

/** The largest residual (px) of keypoint k over the views, or null when it has not been triangulated here. */
export function maxResidual(state, k) {
  const values = Object.values(state.residuals[k] ?? {}).filter((r) => Number.isFinite(r));
  return values.length ? Math.max(...values) : null;
}
