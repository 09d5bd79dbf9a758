// The review mode of a task: a read-only view of every camera with the skeleton before (the dataset's,
// small grey markers) and after the corrections (coloured), joined by displacement vectors; the
// keypoints that moved most; the task's correction history (GET /api/tasks/<id>/history/); and the
// reviewer's decision (POST accept/ or reject/ with a comment).
//
// Drawing reuses the editor's pure modules: state.js builds the state from the task payload and
// render.js draws it (its "base" markers and offsets are exactly the before/after displacements).
// Nothing here edits a keypoint.

import * as api from "./api.js";
import { displacements, frameOn, listenViews, mountViews, partIndices, renderViews } from "./compare-views.js";
import { escape } from "./format.js";
import { Listeners, mountPage } from "./lifecycle.js";
import { createState, select } from "./state.js";

const config = JSON.parse(document.getElementById("review-config").textContent);
const root = document.getElementById("review");
/** Keypoints listed under "largest displacements". */
const TOP_MOVES = 30;
/** History rows shown (newest first). */
const HISTORY_ROWS = 300;
/** Displacements at or below this (px) are not listed. */
const MOVED_PX = 0.05;

const listeners = new Listeners();
let state = null;
const viewEls = new Map();

function renderAll() {
  renderViews(root.querySelector(".views"), state, viewEls);
}

function highlight(k) {
  select(state, k);
  frameOn(state, viewEls, partIndices(state.layout, k));
  for (const li of root.querySelectorAll("[data-k]")) li.classList.toggle("active", Number(li.dataset.k) === k);
  renderAll();
}

function renderMoves() {
  const moves = displacements(state, MOVED_PX);
  const names = state.layout.names;
  const colors = state.layout.colors;
  root.querySelector(".kp-moves").innerHTML = moves
    .slice(0, TOP_MOVES)
    .map(
      (m) =>
        `<li data-k="${m.k}"><i class="dot" style="background:${colors[state.layout.part_of[m.k]]}"></i>` +
        `<span class="kp-name">${escape(names[m.k])}</span><span class="num">${m.px.toFixed(1)} px</span>` +
        `<span class="muted">${escape(m.camera)}</span></li>`,
    )
    .join("") || `<li class="muted">no keypoint was moved</li>`;
}

async function loadHistory() {
  const rows = await api.get(config.history_url);
  const names = state.layout.names;
  const cameraOf = new Map(state.views.map((v) => [v.id, v.camera]));
  root.querySelector(".history-count").textContent = `(${rows.length} writes)`;
  root.querySelector(".history").innerHTML = rows
    .slice(-HISTORY_ROWS)
    .reverse()
    .map((c) => {
      const where = c.x === null ? "back to dataset" : `(${c.x.toFixed(1)}, ${c.y.toFixed(1)})`;
      return (
        `<li data-k="${c.keypoint}"><span class="rev">r${c.revision}</span> <span class="kp-name">${escape(names[c.keypoint])}</span> ` +
        `<span class="muted">${escape(cameraOf.get(c.view) ?? c.view)} · ${escape(c.kind)}${c.flag !== "visible" ? ` · ${escape(c.flag)}` : ""}</span> ` +
        (c.source === "model" ? `<span class="model-assisted" title="accepted from a refiner suggestion">model-assisted</span> ` : "") +
        `${where} <span class="muted">${escape(c.author)} · ${new Date(c.created_at).toLocaleTimeString()}</span></li>`
      );
    })
    .join("");
}

function renderDecision() {
  const task = state.task;
  const status = root.querySelector(".task-status");
  status.textContent = task.status;
  status.dataset.status = task.status;
  const reviewable = task.status === "submitted";
  for (const button of root.querySelectorAll(".review-actions button")) button.disabled = !reviewable;
  root.querySelector(".review-state").textContent = reviewable
    ? `submitted by ${task.assignee}: accept it, or reject it back into their queue with a comment`
    : `${task.status}${task.review_comment ? `: "${task.review_comment}"` : ""} (assignee ${task.assignee})`;
}

async function decide(action) {
  const comment = root.querySelector("#review-comment").value;
  const message = root.querySelector(".review-message");
  try {
    // The revision the reviewer looked at: the server refuses the decision (409) if the task changed since.
    const body = { comment, base_revision: state.task.revision };
    const answer = await api.post(action === "accept" ? config.accept_url : config.reject_url, body);
    state.task.status = answer.status;
    state.task.revision = answer.revision;
    state.task.review_comment = comment.trim();
    message.className = "review-message ok";
    message.textContent =
      answer.status === "rejected" ? `rejected: back in ${state.task.assignee}'s queue` : "accepted";
    renderDecision();
  } catch (error) {
    message.className = "review-message error";
    message.textContent = error.message;
  }
}

function onClick(event) {
  const li = event.target.closest("li[data-k]");
  if (li) highlight(Number(li.dataset.k));
  const button = event.target.closest(".review-actions button");
  if (button) decide(button.dataset.action);
}

export function on() {
  listeners.listen(root, "click", onClick);
  listeners.listen(window, "resize", renderAll);
  listenViews(listeners, root.querySelector(".views"), viewEls, () => state, renderAll);
}

export function off() {
  listeners.off();
}

async function main() {
  const notice = root.querySelector(".banner.notice");
  let payload;
  try {
    payload = await api.get(config.task_url);
  } catch (error) {
    notice.hidden = false;
    notice.textContent = `could not load the task: ${error.message}`;
    return;
  }
  state = createState(payload, { user: config.user });
  const f = payload.frame;
  root.querySelector(".frame-label").textContent = `${f.dataset} · ${f.subject} · ${f.action} · frame ${f.index} · ${payload.assignee}`;
  const study = new URLSearchParams(window.location.search).get("study");
  if (study && /^\d+$/.test(study)) {
    const back = root.querySelector(".back");
    back.href = `/review/studies/${study}/`;
    back.hidden = false;
  }
  const images = mountViews(root.querySelector(".views"), state, viewEls);
  frameOn(state, viewEls, null);
  renderAll();
  renderMoves();
  renderDecision();
  mountPage({ on, off });
  await Promise.all([loadHistory().catch(() => null), ...images.map((img) => img.decode().catch(() => null))]);
  renderAll();
  root.querySelector(".status-line").textContent = `revision ${payload.revision} · ${state.views.length} view(s)`;
  root.dataset.ready = "1";
}

main();
