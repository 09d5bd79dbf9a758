// The FBI labeller page: one image at a time with the 2D skeleton and the asked bone drawn thick (parent
// joint hollow, child joint filled), keyboard answers (fbi-state.js KEYMAP), each answer saved at once
// (POST .../fbi/answers/ with the seconds it took), submit when every bone of every image is answered.
// State lives in fbi-state.js; this module only draws it and turns events into state changes.

import { ApiError, get, post } from "./api.js";
import * as F from "./fbi-state.js";
import { bbox, viewTransform, zoomToBox } from "./geometry.js";
import { Listeners, mountPage } from "./lifecycle.js";

const SVG = "http://www.w3.org/2000/svg";
/** Margin around the person when an image is framed, as a fraction of the person's size. */
const FRAME_MARGIN = 0.12;
/** Radii of the joint markers, screen px. */
const R_PARENT = 9;
const R_CHILD = 8;
/** How often the time spent on the bone is redrawn. */
const TIMER_MS = 500;
/** Parts whose keypoints frame the person (the body and feet carry every asked bone). */
const FRAMING_PARTS = new Set(["body", "feet"]);

const config = JSON.parse(document.getElementById("fbi-config").textContent);
const root = document.getElementById("fbi");
const $ = (sel) => root.querySelector(sel);

const listeners = new Listeners();
let payload = null;
let state = null;
let transform = { s: 1, tx: 0, ty: 0 };
let pending = 0;

function el(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function message(text, kind = "") {
  const m = $(".fbi-message");
  m.textContent = text;
  m.className = `fbi-message ${kind}`;
}

const now = () => performance.now();
const nameOf = (k) => payload.layout.names[k].replace(/_/g, " ");
const view = () => payload.views[state.viewIndex];

// --- drawing ------------------------------------------------------------------------------------

function frameImage() {
  const v = view();
  const viewport = $(".fbi-viewport");
  const size = [v.width, v.height];
  const vp = [viewport.clientWidth, viewport.clientHeight];
  const framing = payload.layout.part_of.flatMap((p, k) => (FRAMING_PARTS.has(p) ? [k] : []));
  const box = bbox(v.points, framing);
  const zoom = box ? zoomToBox(box, size, vp, FRAME_MARGIN) : { k: 1, cx: size[0] / 2, cy: size[1] / 2 };
  transform = viewTransform(zoom, size, vp);
  const canvas = $(".fbi-canvas");
  canvas.style.transform = `translate(${transform.tx}px, ${transform.ty}px) scale(${transform.s})`;
}

function showImage() {
  const v = view();
  const img = $(".fbi-image");
  if (img.dataset.viewId !== String(v.id)) {
    img.dataset.viewId = String(v.id);
    img.width = v.width;
    img.height = v.height;
    img.alt = `camera ${v.camera}`;
    img.src = v.image_url;
    const svg = $(".fbi-overlay");
    svg.setAttribute("width", v.width);
    svg.setAttribute("height", v.height);
    svg.setAttribute("viewBox", `0 0 ${v.width} ${v.height}`);
  }
  frameImage();
}

function drawOverlay() {
  const v = view();
  const svg = $(".fbi-overlay");
  svg.replaceChildren();
  const partClass = (part) => (part === "face" ? "face" : part.endsWith("hand") ? "hand" : "body");
  for (const [a, b, part] of payload.layout.links) {
    const p = v.points[a];
    const q = v.points[b];
    if (!p || !q) continue;
    svg.appendChild(el("line", { class: `link ${partClass(part)}`, x1: p[0], y1: p[1], x2: q[0], y2: q[1] }));
  }
  // Bones already answered in this image, coloured by answer.
  state.bones.forEach(([pa, ch], b) => {
    const label = F.answerOf(state, state.viewIndex, b);
    const p = v.points[pa];
    const q = v.points[ch];
    if (!label || !p || !q || b === state.boneIndex) return;
    svg.appendChild(el("line", { class: `done ${label}`, x1: p[0], y1: p[1], x2: q[0], y2: q[1] }));
  });
  const { parent, child } = F.current(state);
  const p = v.points[parent];
  const q = v.points[child];
  if (!p || !q) return;
  const s = transform.s;
  svg.appendChild(el("line", { class: "bone-halo", x1: p[0], y1: p[1], x2: q[0], y2: q[1] }));
  svg.appendChild(el("line", { class: "bone", x1: p[0], y1: p[1], x2: q[0], y2: q[1], "data-parent": parent, "data-child": child }));
  svg.appendChild(el("circle", { class: "joint-parent", cx: p[0], cy: p[1], r: R_PARENT / s }));
  svg.appendChild(el("circle", { class: "joint-child", cx: q[0], cy: q[1], r: R_CHILD / s }));
  const label = (point, text) => {
    const t = el("text", { class: "joint-label", x: point[0] + 12 / s, y: point[1] - 10 / s, "font-size": 13 / s });
    t.style.fontSize = `${13 / s}px`;
    t.style.strokeWidth = `${3 / s}px`;
    t.textContent = text;
    svg.appendChild(t);
  };
  label(p, "parent");
  label(q, "child");
}

function renderPanel() {
  const { parent, child } = F.current(state);
  $(".bone-parent").textContent = nameOf(parent);
  $(".bone-child").textContent = nameOf(child);
  const chosen = F.answerOf(state);
  for (const button of root.querySelectorAll(".fbi-answers button")) {
    button.classList.toggle("chosen", button.dataset.label === chosen);
  }
  const list = $(".fbi-bones ol");
  list.replaceChildren(
    ...state.bones.map(([pa, ch], b) => {
      const li = document.createElement("li");
      li.dataset.bone = String(b);
      li.classList.toggle("current", b === state.boneIndex);
      const answer = F.answerOf(state, state.viewIndex, b);
      li.innerHTML = `<span></span><span class="answer ${answer ?? ""}">${answer ?? "·"}</span>`;
      li.firstChild.textContent = `${nameOf(pa)} → ${nameOf(ch)}`;
      return li;
    }),
  );
  const vp = F.viewProgress(state, state.viewIndex);
  $(".view-count").textContent = `${vp.answered} / ${vp.total}`;
  const tabs = $(".fbi-images");
  tabs.replaceChildren(
    ...payload.views.map((v, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.view = String(i);
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(i === state.viewIndex));
      const pr = F.viewProgress(state, i);
      b.classList.toggle("complete", pr.answered === pr.total);
      b.innerHTML = `camera ${v.camera}<small>${pr.answered}/${pr.total}</small>`;
      return b;
    }),
  );
  const all = F.progress(state);
  $(".fbi-progress .bar span").style.width = `${(100 * all.answered) / all.total}%`;
  $(".fbi-progress-text").textContent = `${all.answered} / ${all.total} answered`;
  const complete = F.isComplete(state);
  $("[data-action=submit]").disabled = !complete || !state.canEdit;
  $(".fbi-status").textContent = payload.status.replace("_", " ");
  root.dataset.answered = String(all.answered);
  if (complete && state.canEdit && !$(".fbi-message").textContent) message("Every bone is answered: press Enter to submit.", "ok");
}

function renderTime() {
  const v = view().id;
  const image = (state.viewSeconds[v] ?? 0) + (state.canEdit ? (now() - state.markedAt) / 1000 : 0);
  const total = Object.values(state.viewSeconds).reduce((a, b) => a + b, 0);
  $(".fbi-time").textContent = `this image ${image.toFixed(1)} s · answered so far ${total.toFixed(1)} s`;
}

function render() {
  showImage();
  drawOverlay();
  renderPanel();
  renderTime();
}

// --- actions ------------------------------------------------------------------------------------

async function answer(label) {
  if (!state.canEdit) return;
  const before = state;
  const previous = F.answerOf(state);
  const result = F.answer(state, label, now());
  state = result.state;
  const flash = root.querySelector(`.fbi-answers button[data-label=${label}]`);
  flash?.classList.add("flash");
  setTimeout(() => flash?.classList.remove("flash"), 120);
  message("");
  render();
  pending += 1;
  root.dataset.pending = String(pending);
  try {
    await post(payload.answers_url, result.record);
    if (payload.status === "todo") payload.status = "in_progress";
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    state = F.revert(state, result.record, previous);
    state.markedAt = before.markedAt;
    message(`not saved: ${error.message}`, "error");
  } finally {
    pending -= 1;
    root.dataset.pending = String(pending);
    render();
  }
}

async function submit() {
  if (!state.canEdit || !F.isComplete(state) || pending) return;
  try {
    const task = await post(payload.submit_url, {});
    payload.status = task.status;
    state = { ...state, canEdit: false };
    root.classList.add("is-read-only");
    $("[data-action=next-task]").hidden = false;
    message("Submitted. Thank you — press Enter for the next task.", "ok");
    root.dataset.submitted = "1";
    render();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message(error.message, "error");
  }
}

async function nextTask() {
  try {
    const task = await post(config.next_url, {});
    window.location.assign(task.editor_url ?? `/tasks/${task.id}/`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message(error.status === 404 ? "No task left in your queue." : error.message, error.status === 404 ? "ok" : "error");
  }
}

function onKey(event) {
  if (event.target.closest?.("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Enter") {
    event.preventDefault();
    if (root.dataset.submitted === "1") nextTask();
    else submit();
    return;
  }
  const action = F.keyAction(event.key);
  if (!action) return;
  event.preventDefault();
  if (action.type === "answer") answer(action.label);
  else if (action.type === "next-bone") state = F.nextBone(state);
  else if (action.type === "prev-bone") state = F.prevBone(state);
  else if (action.type === "next-image") state = F.nextView(state, now());
  else if (action.type === "prev-image") state = F.prevView(state, now());
  if (action.type !== "answer") render();
}

function onClick(event) {
  const button = event.target.closest("button, li[data-bone]");
  if (!button) return;
  if (button.dataset.label) answer(button.dataset.label);
  else if (button.dataset.view) {
    state = F.goToView(state, Number(button.dataset.view), now());
    render();
  } else if (button.dataset.bone) {
    state = F.goToBone(state, Number(button.dataset.bone));
    render();
  } else if (button.dataset.action === "submit") submit();
  else if (button.dataset.action === "next-task") nextTask();
}

export function on() {
  listeners.listen(document, "keydown", onKey);
  listeners.listen(root, "click", onClick);
  listeners.listen(window, "resize", () => render());
  listeners.every(TIMER_MS, renderTime);
}

export function off() {
  listeners.off();
}

async function start() {
  try {
    payload = await get(config.task_url);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message(error.message, "error");
    return;
  }
  if (payload.kind !== "fbi") {
    window.location.replace(`/tasks/${payload.id}/`);
    return;
  }
  state = F.createState(payload, now());
  const params = new URLSearchParams(window.location.search);
  if (params.has("view")) {
    state = F.focus(state, Number(params.get("view")), Number(params.get("parent")), Number(params.get("child")), now());
  }
  root.classList.toggle("is-read-only", !state.canEdit);
  const f = payload.frame;
  $(".fbi-frame").textContent = `${f.dataset} · ${f.subject} · ${f.action} · frame ${f.index} · ${payload.assignee}` +
    (payload.review_comment ? ` · reviewer: ${payload.review_comment}` : "");
  mountPage({ on, off });
  render();
  root.dataset.ready = "1";
}

start();
