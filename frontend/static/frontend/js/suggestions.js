// Suggestions on the editor state: a model's proposed positions for one part in one view
// (POST /api/tasks/<id>/refine/: the pretrained whole-body model or a trained refiner), which the annotator
// accepts, all at once or one keypoint at a time, or dismisses. Accepting turns a suggestion into a
// correction to send (with source "model"); this module only says which, and forgets what was accepted.
// "Accept all" never touches a keypoint the annotator corrected or flagged in that view (it stays
// suggested, to be picked explicitly), nor a suggestion that moves its point less than the shown
// distance (those are hidden). No DOM, no network: node's test runner checks it.

import { position } from "./state.js";

/** A suggestion closer than this (image px) to where the keypoint is drawn would change nothing: not written. */
export const MIN_SUGGESTION_PX = 0.3;
/** Suggestions that move their point less than this (image px) are hidden unless the annotator lowers it. */
export const DEFAULT_HIDE_UNDER_PX = 1.0;

/** Keep the model's answer {view, part, source, model, label, reason, score, iterations, suggestions: {k: [x, y]}}. */
export function setSuggestions(state, answer) {
  const points = {};
  for (const [k, p] of Object.entries(answer.suggestions ?? {})) {
    if (Array.isArray(p) && p.length === 2 && p.every(Number.isFinite)) points[k] = [p[0], p[1]];
  }
  state.suggestions = Object.keys(points).length
    ? {
        view: answer.view,
        part: answer.part,
        source: answer.source ?? "refiner",
        model: answer.model ?? "",
        label: answer.label ?? answer.model ?? "",
        reason: answer.reason ?? "",
        score: Number.isFinite(answer.score) ? answer.score : null,
        iterations: answer.iterations ?? null,
        points,
      }
    : null;
  return state;
}

/** Whether suggestions are shown (in view `viewId` when given). */
export function hasSuggestions(state, viewId = undefined) {
  const s = state.suggestions;
  return Boolean(s) && (viewId === undefined || String(s.view) === String(viewId));
}

/** Suggestions that move their point less than this many px are hidden. */
export function hideUnder(state) {
  return Number.isFinite(state.suggestionHidePx) ? state.suggestionHidePx : DEFAULT_HIDE_UNDER_PX;
}

export function setHideUnder(state, px) {
  const value = Number(px);
  state.suggestionHidePx = Number.isFinite(value) && value >= 0 ? value : DEFAULT_HIDE_UNDER_PX;
  return state;
}

/** Why a keypoint is kept from "accept all" in `view`: its flag ("occluded", "unsure"; a flag is stored as a
 * correction too, and says more), else "corrected", else null. */
export function keptBecause(view, k) {
  if (!view) return null;
  const flag = view.flags?.[k];
  if (flag && flag !== "visible") return flag;
  return view.corrected?.[k] ? "corrected" : null;
}

/**
 * Every suggestion of the current set, in keypoint order: {k, at, from, moves, kept, hidden}. `from` is where
 * the keypoint is drawn now (null when unknown), `moves` how far the suggestion would move it (px, null when
 * unknown), `kept` why "accept all" leaves it alone, `hidden` whether it moves less than `hideUnder`.
 */
export function suggestionRows(state) {
  const s = state.suggestions;
  if (!s) return [];
  const view = state.views.find((v) => String(v.id) === String(s.view));
  const limit = hideUnder(state);
  return Object.entries(s.points)
    .map(([key, at]) => {
      const k = Number(key);
      const from = view ? position(view, k) : null;
      const moves = from ? Math.hypot(at[0] - from[0], at[1] - from[1]) : null;
      return { k, at, from, moves, kept: keptBecause(view, k), hidden: moves !== null && moves < limit };
    })
    .sort((a, b) => a.k - b.k);
}

/** The shown suggestions of view `viewId` (not hidden): [{k, at, moves, kept}] in keypoint order. */
export function suggestionsIn(state, viewId) {
  if (!hasSuggestions(state, viewId)) return [];
  return suggestionRows(state).filter((r) => !r.hidden);
}

/** The keypoint whose shown suggestion in `viewId` lies nearest (x, y) within `radius` image px, else -1. */
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

/** Accept keypoint k's suggestion (the annotator picked it, so even a kept one): the correction {view, k, x, y}. */
export function acceptSuggestion(state, k) {
  const s = state.suggestions;
  const at = s?.points[k];
  if (!at) return null;
  const write = { view: s.view, k: Number(k), x: at[0], y: at[1] };
  forget(state, k);
  return write;
}

/**
 * Accept every shown suggestion that is not kept: the corrections to send. Suggestions for keypoints the
 * annotator corrected or flagged in the view stay (to be picked one by one); hidden ones and those that would
 * not move their keypoint are dropped.
 */
export function acceptAllSuggestions(state) {
  const s = state.suggestions;
  if (!s) return [];
  const writes = [];
  const kept = {};
  for (const row of suggestionRows(state)) {
    if (row.kept) kept[row.k] = row.at;
    else if (!row.hidden && (row.moves === null || row.moves >= MIN_SUGGESTION_PX)) {
      writes.push({ view: s.view, k: row.k, x: row.at[0], y: row.at[1] });
    }
  }
  state.suggestions = Object.keys(kept).length ? { ...s, points: kept } : null;
  return writes;
}
