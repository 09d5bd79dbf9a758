// Draws everything around the views from a state: the toolbar's focus buttons and status line, the
// banners (read-only, disconnected, notices), and the side panel listing the focused part's keypoints.
// Like render.js it knows nothing about events or the network.

import { keypointLabel, partLabel } from "./render.js";
import { focusMembers, isReadOnly, isShown, maxResidual, nextFlaggedView, reviewCommentShown, undoDepths } from "./state.js";
import { hideUnder, suggestionRows } from "./suggestions.js";
import { escape } from "./format.js";


/** The key that focuses a part: its first letter (b, f, l, r for the COCO-WholeBody focus parts). */
export function focusKey(part) {
  return part[0].toLowerCase();
}

/** Build the focus buttons and the parts' show/hide toggles once from the layout. */
export function mountToolbar(root, layout) {
  const box = root.querySelector(".focus-buttons");
  box.innerHTML =
    layout.focus_parts
      .map(
        (p) =>
          `<button type="button" class="focus" data-focus="${p}" style="--c:${layout.colors[p]}" title="zoom every view to the ${partLabel(p)} (${focusKey(p)})">` +
          `<span class="swatch"></span>${partLabel(p)} <kbd>${focusKey(p)}</kbd></button>`,
      )
      .join("") + `<button type="button" class="focus" data-focus="" title="show the whole images (0)">fit <kbd>0</kbd></button>`;
  const shown = root.querySelector(".show-parts");
  if (shown) {
    shown.innerHTML =
      `<span class="muted">show</span>` +
      Object.keys(layout.parts)
        .map(
          (p) =>
            `<button type="button" class="show-part" data-part="${p}" aria-pressed="true" style="--c:${layout.colors[p]}" ` +
            `title="show or hide the ${partLabel(p)} in every view"><span class="swatch"></span>${partLabel(p)}</button>`,
        )
        .join("");
  }
}

function banner(root, name, text) {
  const node = root.querySelector(`.banner.${name}`);
  node.hidden = !text;
  const target = node.querySelector(".text") ?? node;
  if (text && target.textContent !== text) target.textContent = text;
}

/** Draw the toolbar, banners and side panel of `state` into the editor element `root`. */
export function renderPanel(state, root) {
  const { task, layout } = state;
  const readOnly = isReadOnly(state);
  root.classList.toggle("is-read-only", readOnly);
  root.dataset.revision = task.revision;
  root.dataset.status = task.status;

  let ro = "";
  if (readOnly) {
    // The lock belongs to one tab: the same user's other tab holds it when the holder is the user.
    if (task.lock?.holder && !task.lock.mine && task.lock.holder === state.user) {
      ro = "read-only: you are editing this task in another window or tab";
    } else if (task.lock?.holder && !task.lock.mine) ro = `read-only: ${task.lock.holder} is editing`;
    else if (!task.can_edit) ro = `read-only: this task is ${task.status.replace("_", " ")} and cannot be edited here`;
    else ro = "read-only: waiting for the editing lock";
  }
  banner(root, "readonly", ro);
  banner(
    root,
    "offline",
    state.connection === "disconnected" ? "connection lost: reconnecting… (changes are kept and sent when it is back)" : "",
  );
  banner(root, "notice", state.notice ?? "");

  const status = root.querySelector(".status-line");
  const pending = state.pending.length ? ` · ${state.pending.length} pending` : "";
  status.textContent = state.status.text + (state.status.kind === "saving" ? "" : pending);
  status.dataset.kind = state.status.kind;
  const conn = root.querySelector(".conn");
  const connText = { connected: "live", disconnected: "offline", connecting: "connecting…" }[state.connection] ?? "";
  conn.textContent = `${connText} · revision ${task.revision}`;
  conn.dataset.state = state.connection;

  root.querySelector(".task-title").textContent =
    `Task ${task.id} · ${task.frame.subject} · ${task.frame.action} · frame ${task.frame.index} · ${task.status.replace("_", " ")}`;
  for (const b of root.querySelectorAll("button.focus")) b.classList.toggle("active", b.dataset.focus === state.focus);
  for (const b of root.querySelectorAll("[data-edit]")) b.disabled = readOnly;
  const depths = undoDepths(state);
  const undo = root.querySelector("[data-action=undo]");
  const redo = root.querySelector("[data-action=redo]");
  undo.disabled = readOnly || depths.undo === 0;
  redo.disabled = readOnly || depths.redo === 0;
  undo.title = depths.undo ? `undo your last change (Ctrl+Z) · ${depths.undo} to undo` : "nothing to undo";
  redo.title = depths.redo ? `redo (Ctrl+Shift+Z, Ctrl+Y) · ${depths.redo} to redo` : "nothing to redo";
  const b = root.querySelector("#brightness");
  const c = root.querySelector("#contrast");
  const o = root.querySelector("#opacity");
  if (b && Number(b.value) !== state.filters.brightness) b.value = state.filters.brightness;
  if (c && Number(c.value) !== state.filters.contrast) c.value = state.filters.contrast;
  if (o && Number(o.value) !== Math.round(100 * state.opacity)) o.value = Math.round(100 * state.opacity);
  for (const button of root.querySelectorAll(".show-part")) {
    const hidden = Boolean(state.hidden[button.dataset.part]);
    button.setAttribute("aria-pressed", hidden ? "false" : "true");
    button.classList.toggle("off", hidden);
  }

  renderReviewNote(state, root);
  renderNextView(state, root, readOnly);
  renderKeypointList(state, root);
  renderSuggestions(state, root);
}

const KEPT_TEXT = { corrected: "you corrected it here", occluded: "you flagged it occluded here", unsure: "you flagged it unsure here" };

/** The reviewer's comment, until the task is handed in again. */
function renderReviewNote(state, root) {
  const box = root.querySelector(".review-note");
  if (!box) return;
  const shown = reviewCommentShown(state);
  box.hidden = !shown;
  if (!shown) return;
  box.querySelector(".reviewer").textContent = state.task.reviewed_by ?? "the reviewer";
  box.querySelector(".comment").textContent = state.task.review_comment;
}

/** "Correct it in camera N": offered while the selected keypoint disagrees in a view not corrected yet. */
function renderNextView(state, root, readOnly) {
  const box = root.querySelector(".next-view");
  if (!box) return;
  const k = state.selection;
  const next = readOnly ? null : nextFlaggedView(state, k, state.active);
  box.hidden = next === null;
  if (next === null) return;
  const views = state.views.filter((v) => (state.flagged[k] ?? []).map(String).includes(String(v.id)) && !v.corrected[k]);
  const camera = state.views.find((v) => String(v.id) === String(next)).camera;
  const worst = Math.max(...views.map((v) => state.residuals[k]?.[v.id] ?? 0));
  const text = `${keypointLabel(state.layout, k)} disagrees in ${views.length} view${views.length === 1 ? "" : "s"} ` +
    `(up to ${worst.toFixed(0)} px): next, camera ${camera}`;
  const node = box.querySelector(".next-view-text");
  if (node.textContent !== text) node.textContent = text;
}

/** The suggestions: which model made them and why, and per keypoint how far it would move (kept ones say why). */
function renderSuggestions(state, root) {
  const box = root.querySelector(".suggestions-box");
  if (!box) return;
  const s = state.suggestions;
  box.hidden = !s;
  box.dataset.source = s?.source ?? "";
  if (!s) return;
  const view = state.views.find((v) => String(v.id) === String(s.view));
  const rows = suggestionRows(state);
  const shown = rows.filter((r) => !r.hidden);
  const kept = shown.filter((r) => r.kept).length;
  const limit = hideUnder(state);
  const score = s.score === null ? "" : `, presence ${s.score.toFixed(2)}`;
  const text =
    `${shown.length} suggestion${shown.length === 1 ? "" : "s"} for the ${partLabel(s.part)} in camera ${view?.camera ?? s.view}` +
    ` from the ${s.label}${s.iterations ? `, ${s.iterations} iterations` : ""}${score}` +
    (rows.length > shown.length ? ` · ${rows.length - shown.length} moving less than ${limit} px hidden` : "") +
    (kept ? ` · ${kept} kept from "accept all" (pick them one by one)` : "");
  const node = box.querySelector(".suggestions-text");
  if (node.textContent !== text) node.textContent = text;
  const why = box.querySelector(".suggestions-reason");
  if (why && why.textContent !== s.reason) why.textContent = s.reason;
  const other = box.querySelector('[data-action="suggest-other"]');
  if (other) other.textContent = s.source === "pretrained" ? "ask the trained refiner" : "ask the pretrained model";
  const input = box.querySelector(".suggestions-hide");
  if (input && document.activeElement !== input && Number(input.value) !== limit) input.value = limit;
  const list = box.querySelector(".suggestion-list");
  if (!list) return;
  // Kept ones first: they are the ones the annotator has to decide on one by one.
  const html = [...shown.filter((r) => r.kept), ...shown.filter((r) => !r.kept)]
    .map(
      (r) =>
        `<li class="suggestion-row${r.kept ? " kept" : ""}" data-k="${r.k}" title="click to accept this one">` +
        `<span class="name">${escape(state.layout.names[r.k])}</span>` +
        `<span class="moves">${r.moves === null ? "new" : `${r.moves.toFixed(1)} px`}</span>` +
        (r.kept ? `<span class="kept-why">kept: ${KEPT_TEXT[r.kept] ?? r.kept}</span>` : "") +
        `</li>`,
    )
    .join("");
  if (lastList.get(list) !== html) {
    list.innerHTML = html;
    lastList.set(list, html);
  }
}

// The list's last HTML, so that an unchanged list is not rebuilt (and keeps its scroll position).
const lastList = new WeakMap();

/** The region (layout.regions, e.g. the face's jaw, brows, eyes) that keypoint k belongs to, or null. */
function regionOf(layout, k) {
  const region = (layout.regions ?? []).find(([, a, b]) => k >= a && k < b);
  return region ? region[0] : null;
}

function renderKeypointList(state, root) {
  const { layout } = state;
  const members = focusMembers(layout, state.focus);
  const heading = root.querySelector(".panel-part");
  heading.textContent = `${partLabel(state.focus)} · ${members.length} keypoints`;
  heading.style.setProperty("--c", layout.colors[state.focus]);
  let region = null;
  const rows = members.map((k) => {
    const here = regionOf(layout, k);
    const header = here !== null && here !== region ? `<li class="kp-group">${escape(here)}</li>` : "";
    region = here;
    const corrected = state.views.filter((v) => v.corrected[k]).length;
    const flags = new Set(state.views.map((v) => v.flags[k]).filter((f) => f && f !== "visible"));
    const res = maxResidual(state, k);
    const flagged = (state.flagged[k] ?? []).length > 0;
    const badges = [];
    if (corrected) badges.push(`<span class="badge corrected" title="corrected in ${corrected} view(s)">✓${corrected}</span>`);
    for (const f of flags) badges.push(`<span class="badge ${f}">${f}</span>`);
    const resText = res === null ? "" : `<span class="res${flagged ? " bad" : ""}">${res.toFixed(1)} px</span>`;
    const selected = state.selection === k ? " selected" : "";
    const hidden = isShown(state, k) ? "" : " hidden-part";
    const part = layout.part_of[k];
    return (
      `${header}<li class="kp-row${selected}${hidden}" data-k="${k}" style="--c:${layout.colors[part]}" title="${escape(layout.names[k])}">` +
      `<span class="dot"></span><span class="idx">${k}</span><span class="name">${escape(keypointLabel(layout, k))}</span>` +
      `${badges.join("")}${resText}</li>`
    );
  });
  const list = root.querySelector(".kp-list");
  const html = rows.join("");
  if (lastList.get(list) !== html) {
    list.innerHTML = html;
    lastList.set(list, html);
    const sel = list.querySelector(".selected");
    if (sel) sel.scrollIntoView({ block: "nearest" });
  }
}
