// The frame page: every view of one frame with two skeleton versions of the reviewer's choice, "before"
// (rings, and a line to where "after" put each keypoint) and "after" (markers), and the keypoints that moved
// most between them. Versions come with the page (frame-payload: each version's 2D in each view).
//
// Drawing reuses the editor's pure modules: the two versions become a task-like state (state.js) whose
// "base" is the before and "current" the after, drawn by render.js like the review mode draws a task.

import { displacements, frameOn, listenViews, mountViews, partIndices, renderViews } from "./compare-views.js";
import { escape } from "./format.js";
import { Listeners, mountPage } from "./lifecycle.js";
import { keypointLabel } from "./render.js";
import { createState, select } from "./state.js";

const payload = JSON.parse(document.getElementById("frame-payload").textContent);
const root = document.getElementById("frame");
/** Keypoints listed under "largest displacements". */
const TOP_MOVES = 30;
/** Displacements below this (px) are not listed. */
const MOVED_PX = 0.05;

const listeners = new Listeners();
let state = null;
const viewEls = new Map();

/** The default comparison: the dataset's version before, the newest corrected (else ground truth) after. */
function defaults() {
  const list = payload.skeletons;
  const before = list.find((s) => s.source === "dataset") ?? list[0];
  const after = [...list].reverse().find((s) => s.source === "corrected") ??
    list.find((s) => s.source === "ground_truth") ?? before;
  return [before, after];
}

function buildState(before, after) {
  const views = payload.views.map((v) => ({
    ...v,
    base: before.points[String(v.id)],
    current: after.points[String(v.id)],
  }));
  const zoom = state?.zoom;
  const next = createState({ id: null, status: "", revision: 0, can_edit: false, lock: null, frame: payload.frame,
    layout: payload.layout, views });
  if (zoom) next.zoom = zoom;
  return next;
}

function renderAll() {
  renderViews(root.querySelector(".views"), state, viewEls);
}

function renderMoves() {
  const moves = displacements(state, MOVED_PX);
  const colors = state.layout.colors;
  root.querySelector(".kp-moves").innerHTML = moves
    .slice(0, TOP_MOVES)
    .map((m) =>
      `<li data-k="${m.k}"><i class="dot" style="background:${colors[state.layout.part_of[m.k]]}"></i>` +
      `<span class="kp-name">${escape(keypointLabel(state.layout, m.k))}</span><span class="num">${m.px.toFixed(1)} px</span>` +
      `<span class="muted">${escape(m.camera)}</span></li>`)
    .join("") || `<li class="muted">the two versions agree</li>`;
}

function setupCompare() {
  const selects = [...root.querySelectorAll(".compare select")];
  const [before, after] = defaults();
  for (const [select, chosen] of [[selects[0], before], [selects[1], after]]) {
    select.innerHTML = payload.skeletons
      .map((s) => `<option value="${s.id}"${s.id === chosen?.id ? " selected" : ""}>${escape(s.label)}</option>`)
      .join("");
  }
}

function compare() {
  const [b, a] = [...root.querySelectorAll(".compare select")].map((s) => payload.skeletons.find((x) => String(x.id) === s.value));
  state = buildState(b, a);
  renderMoves();
  renderAll();
  root.querySelector(".status-line").textContent =
    `${payload.skeletons.length} skeleton version(s) · ${state.views.length} view(s) · comparing v${b.version} with v${a.version}`;
}

function onClick(event) {
  const li = event.target.closest("li[data-k]");
  if (!li) return;
  const k = Number(li.dataset.k);
  select(state, k);
  frameOn(state, viewEls, partIndices(state.layout, k));
  for (const row of root.querySelectorAll("li[data-k]")) row.classList.toggle("active", row === li);
  renderAll();
}

export function on() {
  for (const menu of root.querySelectorAll(".compare select")) listeners.listen(menu, "change", () => compare());
  listeners.listen(root, "click", onClick);
  listenViews(listeners, root.querySelector(".views"), viewEls, () => state, renderAll);
}

export function off() {
  listeners.off();
}

async function main() {
  if (!payload.skeletons.length) {
    root.querySelector(".status-line").textContent = "this frame has no skeleton";
    root.dataset.ready = "1";
    return;
  }
  setupCompare();
  const [before, after] = defaults();
  state = buildState(before, after);
  const images = mountViews(root.querySelector(".views"), state, viewEls);
  frameOn(state, viewEls, null);
  compare();
  mountPage({ on, off });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  renderAll();
  root.dataset.ready = "1";
}

main();
