// The frame page: every view of one frame with two skeleton versions of the reviewer's choice, "before"
// (rings, and a line to where "after" put each keypoint) and "after" (markers), and the keypoints that moved
// most between them. Versions come with the page (frame-payload: each version's 2D in each view).
//
// Drawing reuses the editor's pure modules: the two versions become a task-like state (state.js) whose
// "base" is the before and "current" the after, drawn by render.js like the review mode draws a task.

import { bbox, distance, zoomToBox } from "./geometry.js";
import { keypointLabel, layoutGrid, mountView, render } from "./render.js";
import { createState, select } from "./state.js";

const payload = JSON.parse(document.getElementById("frame-payload").textContent);
const root = document.getElementById("frame");
/** Keypoints listed under "largest displacements". */
const TOP_MOVES = 30;
/** Displacements below this (px) are not listed. */
const MOVED_PX = 0.05;

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

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
  layoutGrid(root.querySelector(".views"), state.views);
  for (const view of state.views) render(state, viewEls.get(view.id), view);
}

function frameOn(indices) {
  for (const view of state.views) {
    const vp = viewEls.get(view.id).querySelector(".viewport");
    const n = view.current.length;
    const ids = indices ? [...indices, ...indices.map((k) => k + n)] : undefined;
    const box = bbox([...view.current, ...view.base], ids);
    if (box) state.zoom[view.id] = zoomToBox(box, [view.width, view.height], [vp.clientWidth || 1, vp.clientHeight || 1]);
  }
}

function partOf(k) {
  const [a, b] = state.layout.parts[state.layout.part_of[k]];
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function renderMoves() {
  const moves = [];
  for (let k = 0; k < state.layout.names.length; k++) {
    let best = null;
    for (const view of state.views) {
      const d = distance(view.base[k], view.current[k]);
      if (d !== null && (best === null || d > best.px)) best = { k, px: d, camera: view.camera };
    }
    if (best && best.px > MOVED_PX) moves.push(best);
  }
  moves.sort((a, b) => b.px - a.px);
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
    select.addEventListener("change", () => compare());
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

async function main() {
  if (!payload.skeletons.length) {
    root.querySelector(".status-line").textContent = "this frame has no skeleton";
    root.dataset.ready = "1";
    return;
  }
  setupCompare();
  const [before, after] = defaults();
  state = buildState(before, after);
  const container = root.querySelector(".views");
  const images = [];
  for (const view of state.views) {
    const el = mountView(container, view, state.layout);
    viewEls.set(view.id, el);
    images.push(el.querySelector("img.frame"));
  }
  if (state.views.length === 1) container.classList.add("single");
  frameOn(null);
  compare();
  root.addEventListener("click", (event) => {
    const li = event.target.closest("li[data-k]");
    if (!li) return;
    const k = Number(li.dataset.k);
    select(state, k);
    frameOn(partOf(k));
    for (const row of root.querySelectorAll("li[data-k]")) row.classList.toggle("active", row === li);
    renderAll();
  });
  root.querySelector(".views").addEventListener("dblclick", () => {
    frameOn(null);
    renderAll();
  });
  const resize = new ResizeObserver(() => renderAll());
  for (const el of viewEls.values()) resize.observe(el.querySelector(".viewport"));
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  renderAll();
  root.dataset.ready = "1";
}

main();
