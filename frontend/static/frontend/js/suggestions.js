// Refinement suggestions on the editor state: the refiner's proposed positions for one part in one view
// (POST /api/tasks/<id>/refine/), which the annotator accepts, all at once or one keypoint at a time, or
// dismisses. Accepting turns a suggestion into a correction to send (with source "model"); this module
// only says which, and forgets what was accepted. No DOM, no network: node's test runner checks it.

import { position } from "./state.js";

/** A suggestion closer than this (image px) to where the keypoint is drawn would change nothing: not written. */
export const MIN_SUGGESTION_PX = 0.3;

/** Keep the refiner's answer {view, part, model, iterations, suggestions: {k: [x, y]}} (replacing earlier ones). */
export function setSuggestions(state, answer) {
  const points = {};
  for (const [k, p] of Object.entries(answer.suggestions ?? {})) {
    if (Array.isArray(p) && p.length === 2 && p.every(Number.isFinite)) points[k] = [p[0], p[1]];
  }
  state.suggestions = Object.keys(points).length
    ? { view: answer.view, part: answer.part, model: answer.model ?? "", iterations: answer.iterations ?? null, points }
    : null;
  return state;
}

/** Whether suggestions are shown (in view `viewId` when given). */
export function hasSuggestions(state, viewId = undefined) {
  const s = state.suggestions;
  return Boolean(s) && (viewId === undefined || String(s.view) === String(viewId));
}

/** The suggestions of view `viewId`: [{k, at: [x, y]}] in keypoint order (none for other views). */
export function suggestionsIn(state, viewId) {
  if (!hasSuggestions(state, viewId)) return [];
  return Object.entries(state.suggestions.points)
    .map(([k, at]) => ({ k: Number(k), at }))
    .sort((a, b) => a.k - b.k);
}

/** The keypoint whose suggestion in `viewId` lies nearest (x, y) within `radius` image px, else -1. */
export function nearestSuggestion(state, viewId, x, y, radius) {
  let best = -1;
  let bestD = radius;
  for (const { k, at } of suggestionsIn(state, viewId)) {
    const d = Math.hypot(at[0] - x, at[1] - y);
    if (d <= bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

export function dismissSuggestions(state) {
  state.suggestions = null;
  return state;
}

function forget(state, k) {
  delete state.suggestions.points[k];
  if (!Object.keys(state.suggestions.points).length) state.suggestions = null;
}

/** Accept keypoint k's suggestion: the correction {view, k, x, y} to send, or null when there is none. */
export function acceptSuggestion(state, k) {
  const s = state.suggestions;
  const at = s?.points[k];
  if (!at) return null;
  const write = { view: s.view, k: Number(k), x: at[0], y: at[1] };
  forget(state, k);
  return write;
}

/** Accept every suggestion: the corrections to send, leaving out those that would not move their keypoint. */
export function acceptAllSuggestions(state) {
  const s = state.suggestions;
  if (!s) return [];
  const view = state.views.find((v) => String(v.id) === String(s.view));
  const writes = [];
  for (const { k, at } of suggestionsIn(state, s.view)) {
    const p = view ? position(view, k) : null;
    if (!p || Math.hypot(at[0] - p[0], at[1] - p[1]) >= MIN_SUGGESTION_PX) writes.push({ view: s.view, k, x: at[0], y: at[1] });
  }
  state.suggestions = null;
  return writes;
}
