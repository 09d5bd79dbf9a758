// The editor's controller: pointer, wheel and keyboard events and websocket messages become state
// changes (state.js), the screen is redrawn from the state (render.js, panel.js), and every change
// the annotator makes is queued as a write and sent in order (write-queue.js). Listeners attach in on()
// and detach in off().

import { ApiError } from "./api.js";
import { epipolarCurve, focusZoom, nearestPoint, panBy, toImage, zoomAround } from "./geometry.js";
import { focusKey, mountToolbar, renderPanel } from "./panel.js";
import {
  applyTransform, dragHandles, drawEpipolar, drawnTransform, keypointLabel, layoutGrid, mountView, moveDragHandles, render,
  transformOf,
} from "./render.js";
import * as S from "./state.js";
import * as G from "./suggestions.js";
import { WriteQueue } from "./write-queue.js";

/** Screen pixels within which a pointer grabs a keypoint. */
const GRAB_PX = 9;
/** A drag shorter than this (image px) is a click, not a correction. */
const MIN_MOVE_PX = 0.3;
/** Wheel zoom speed: factor exp(-deltaY * WHEEL_RATE). */
const WHEEL_RATE = 0.0015;
/** Write kinds that change a keypoint's position and answer like a correction. */
const UNDO_KINDS = new Set(["undo", "redo"]);
const NOT_FOUND = 404;
/** Milliseconds a notice stays up (it can be dismissed sooner); the status line keeps what still matters. */
const NOTICE_MS = 8000;

const isTextInput = (target) =>
  target instanceof HTMLElement && (target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName) ||
    (target.tagName === "INPUT" && !["range", "checkbox", "button"].includes(target.type)));

export class Editor {
  /**
   * @param {HTMLElement} root the editor element (editor.html's #editor)
   * @param {object} state from state.createState()
   * @param {{api: {get, post}, urls: {task: string, next: string}}} deps the HTTP client, the task's API URL
   *   and the URL that starts the user's next task
   */
  constructor(root, state, { api, urls }) {
    this.root = root;
    this.state = state;
    this.api = api;
    this.urls = urls;
    this.viewEls = new Map();
    this.listeners = [];
    this.pointer = null; // {mode: "drag" | "pan", ...}
    this.frame = 0;
    this.dirty = new Set();
    this.writes = new WriteQueue(state, {
      post: (path, body) => this.api.post(path, body),
      refresh: () => this.refresh(),
      apply: (write, answer) => this.applyAnswer(write, answer),
      progress: () => renderPanel(this.state, this.root),
      done: () => this.render(),
    });
    this.space = false;
    this.state.active = state.views[0]?.id ?? null;
    this.resizeObserver = null;
    this.noticeShown = null;
    this.noticeTimer = null;
    this.noticeMs = NOTICE_MS;
  }

  /** The view that keys act on (the last one the pointer was in, or the one "next view" jumped to). */
  get active() {
    return this.state.active;
  }

  set active(viewId) {
    this.state.active = viewId;
  }

  /** Whether a modal (the shortcuts, the submit confirmation) is open: it owns the keyboard then. */
  modalOpen() {
    return this.root.querySelector("dialog[open]") !== null;
  }

  /** Build the views and the toolbar (once). Returns the view elements' images. */
  mount() {
    const container = this.root.querySelector(".views");
    container.innerHTML = "";
    this.state.views.forEach((view, i) => {
      // Keys 1-9 enlarge the first nine views; every view enlarges on a double-click.
      this.viewEls.set(String(view.id), mountView(container, view, this.state.layout, i < 9 ? String(i + 1) : null));
    });
    mountToolbar(this.root, this.state.layout);
    return [...this.viewEls.values()].map((v) => v.querySelector("img.frame"));
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  listen(target, type, handler, options) {
    const fn = handler.bind(this);
    target.addEventListener(type, fn, options);
    this.listeners.push([target, type, fn, options]);
  }

  on() {
    for (const viewEl of this.viewEls.values()) {
      const vp = viewEl.querySelector(".viewport");
      this.listen(vp, "pointerdown", this.onPointerDown);
      this.listen(vp, "pointermove", this.onPointerMove);
      this.listen(vp, "pointerup", this.onPointerUp);
      this.listen(vp, "pointercancel", this.onPointerUp);
      this.listen(vp, "pointerleave", this.onPointerLeave);
      this.listen(vp, "wheel", this.onWheel, { passive: false });
      this.listen(vp, "dblclick", this.onDoubleClick);
      this.listen(vp, "contextmenu", (e) => e.preventDefault());
    }
    this.listen(this.root, "click", this.onClick);
    this.listen(this.root, "input", this.onInput);
    this.listen(window, "keydown", this.onKeyDown);
    this.listen(window, "keyup", this.onKeyUp);
    this.listen(window, "resize", () => this.schedule());
    this.listen(this.root.querySelector("dialog.confirm-submit"), "close", this.onConfirmClose);
    // A view is drawn for its viewport's size; whatever changes that size later (the toolbar wrapping, a
    // font arriving, the window) redraws it, so what is drawn always fits the viewport it is in.
    this.resizeObserver = new ResizeObserver((entries) => {
      this.schedule(...entries.map((e) => e.target.closest(".view").dataset.viewId));
    });
    for (const viewEl of this.viewEls.values()) this.resizeObserver.observe(viewEl.querySelector(".viewport"));
    return this;
  }

  off() {
    for (const [target, type, fn, options] of this.listeners) target.removeEventListener(type, fn, options);
    this.listeners = [];
    this.resizeObserver?.disconnect();
    cancelAnimationFrame(this.frame);
    this.writes.stop();
    clearTimeout(this.noticeTimer);
    return this;
  }

  // --- drawing -------------------------------------------------------------------------------------

  /** Redraw now: the panel, then every view (or those in `only`). */
  render(only = null) {
    this.timeNotice();
    // Everything that can change the views' size first (banners, the title, the enlarged view), so that
    // each view is drawn for the size it will have.
    renderPanel(this.state, this.root);
    const container = this.root.querySelector(".views");
    layoutGrid(container, this.state.views);
    container.classList.toggle("has-enlarged", this.state.enlarged !== null);
    for (const view of this.state.views) {
      const el = this.viewEls.get(String(view.id));
      el.classList.toggle("enlarged", String(this.state.enlarged) === String(view.id));
      el.classList.toggle("active", String(this.active) === String(view.id));
    }
    for (const view of this.state.views) {
      if (only && !only.has(String(view.id))) continue;
      render(this.state, this.viewEls.get(String(view.id)), view);
    }
  }

  /** A new notice stays up NOTICE_MS, then goes (unless another replaced it). */
  timeNotice() {
    if (this.state.notice === this.noticeShown) return;
    this.noticeShown = this.state.notice;
    clearTimeout(this.noticeTimer);
    if (!this.state.notice) return;
    const notice = this.state.notice;
    this.noticeTimer = setTimeout(() => {
      if (this.state.notice !== notice) return;
      this.state.notice = null;
      this.render();
    }, this.noticeMs);
  }

  /** Redraw at the next animation frame (views: ids to redraw; none = all). */
  schedule(...viewIds) {
    if (viewIds.length === 0) this.dirty.add("*");
    for (const id of viewIds) this.dirty.add(String(id));
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const all = this.dirty.has("*");
      const only = all ? null : new Set(this.dirty);
      this.dirty.clear();
      this.render(only);
    });
  }

  view(id) {
    return this.state.views.find((v) => String(v.id) === String(id));
  }

  // --- pointer -------------------------------------------------------------------------------------

  locate(event) {
    const viewEl = event.currentTarget.closest(".view");
    const view = this.view(viewEl.dataset.viewId);
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    // The transform the view is drawn with, so that the pointer grabs the marker it is over.
    const t = drawnTransform(viewEl) ?? transformOf(this.state, view, viewEl);
    const [x, y] = toImage(t, px, py);
    return { viewEl, view, px, py, t, x, y, viewport: [rect.width, rect.height] };
  }

  hit(at) {
    // Hidden parts are not drawn, so they are not grabbed either.
    const pos = at.view.current.map((_, k) => (S.isShown(this.state, k) ? S.position(at.view, k) : null));
    const sel = this.state.selection;
    // The selected keypoint wins ties, so that it can be grabbed out of a dense cluster.
    if (sel !== null && pos[sel] && Math.hypot(pos[sel][0] - at.x, pos[sel][1] - at.y) * at.t.s <= GRAB_PX) return sel;
    return nearestPoint(pos, at.x, at.y, GRAB_PX / at.t.s);
  }

  onPointerDown(event) {
    const at = this.locate(event);
    this.active = at.view.id;
    event.currentTarget.focus({ preventScroll: true });
    if (event.button === 0 && !this.space && G.hasSuggestions(this.state, at.view.id)) {
      const s = G.nearestSuggestion(this.state, at.view.id, at.x, at.y, GRAB_PX / at.t.s);
      if (s >= 0) {
        event.preventDefault();
        this.acceptSuggestions(s);
        return;
      }
    }
    const k = event.button === 0 && !this.space ? this.hit(at) : -1;
    event.currentTarget.setPointerCapture(event.pointerId);
    event.preventDefault();
    this.state.hover = null;
    if (k >= 0) {
      S.select(this.state, k);
      this.render();
      const editable = !S.isReadOnly(this.state) && S.isValidIn(this.state, at.view, k);
      if (!editable) return;
      const start = S.position(at.view, k);
      this.pointer = {
        mode: "drag", id: event.pointerId, view: at.view, viewEl: at.viewEl, k, start, at: start,
        offset: [start[0] - at.x, start[1] - at.y], handles: dragHandles(at.viewEl, k), pending: false,
      };
      at.viewEl.classList.add("dragging");
      return;
    }
    this.pointer = { mode: "pan", id: event.pointerId, view: at.view, viewEl: at.viewEl, last: [at.px, at.py], viewport: at.viewport };
    at.viewEl.classList.add("panning");
  }

  onPointerMove(event) {
    const p = this.pointer;
    if (p && p.id === event.pointerId) {
      const at = this.locate(event);
      if (p.mode === "drag") {
        const { width, height } = p.view;
        p.at = [Math.min(width, Math.max(0, at.x + p.offset[0])), Math.min(height, Math.max(0, at.y + p.offset[1]))];
        if (!p.pending) {
          p.pending = true;
          requestAnimationFrame(() => this.dragFrame());
        }
      } else {
        const zoom = panBy(this.state.zoom[p.view.id], [p.view.width, p.view.height], at.viewport, at.px - p.last[0], at.py - p.last[1]);
        p.last = [at.px, at.py];
        S.setZoom(this.state, p.view.id, zoom);
        applyTransform(p.viewEl, transformOf(this.state, p.view, p.viewEl));
      }
      return;
    }
    if (p) return;
    const at = this.locate(event);
    this.active = at.view.id;
    const k = this.hit(at);
    const hover = k >= 0 ? { view: at.view.id, k } : null;
    const old = this.state.hover;
    if ((old?.k ?? -1) !== (hover?.k ?? -1) || String(old?.view) !== String(hover?.view)) {
      this.state.hover = hover;
      at.viewEl.classList.toggle("over-point", k >= 0);
      this.schedule(at.view.id, ...(old ? [old.view] : []));
    }
  }

  /** One animation frame of a drag: the dragged marker and the epipolar curves in the other views. */
  dragFrame() {
    const p = this.pointer;
    if (!p || p.mode !== "drag") return;
    p.pending = false;
    moveDragHandles(p.handles, p.at[0], p.at[1]);
    const color = this.state.layout.colors[this.state.layout.part_of[p.k]];
    for (const other of this.state.views) {
      if (other.id === p.view.id) continue;
      const curve = epipolarCurve(p.view.camera_params, other.camera_params, p.at, this.state.epipolarDepths ?? undefined);
      drawEpipolar(this.viewEls.get(String(other.id)), curve, color);
    }
  }

  onPointerUp(event) {
    const p = this.pointer;
    if (!p || p.id !== event.pointerId) return;
    this.pointer = null;
    p.viewEl.classList.remove("dragging", "panning");
    if (p.mode !== "drag") return;
    for (const el of this.viewEls.values()) drawEpipolar(el, []);
    const moved = Math.hypot(p.at[0] - p.start[0], p.at[1] - p.start[1]);
    if (event.type === "pointercancel" || moved < MIN_MOVE_PX) {
      this.render();
      return;
    }
    this.correct(p.view, p.k, p.at[0], p.at[1]);
  }

  onPointerLeave() {
    if (this.pointer || !this.state.hover) return;
    const old = this.state.hover;
    this.state.hover = null;
    this.schedule(old.view);
  }

  onWheel(event) {
    event.preventDefault();
    const at = this.locate(event);
    const factor = Math.exp(-event.deltaY * WHEEL_RATE);
    S.setZoom(this.state, at.view.id, zoomAround(this.state.zoom[at.view.id], [at.view.width, at.view.height], at.viewport, at.px, at.py, factor));
    this.state.hover = null;
    this.schedule(at.view.id);
  }

  onDoubleClick(event) {
    const at = this.locate(event);
    if (this.hit(at) >= 0) return;
    this.toggleEnlarged(at.view.id);
  }

  toggleEnlarged(viewId) {
    this.state.enlarged = String(this.state.enlarged) === String(viewId) ? null : viewId;
    this.active = viewId;
    this.render();
  }

  // --- toolbar, panel ------------------------------------------------------------------------------

  onClick(event) {
    const target = event.target.closest("button, .kp-row, .suggestion-row");
    if (!target || !this.root.contains(target) || target.closest("dialog")) return;
    if (target.matches(".suggestion-row")) {
      this.acceptSuggestions(Number(target.dataset.k));
    } else if (target.matches(".kp-row")) {
      S.select(this.state, Number(target.dataset.k));
      this.render();
    } else if (target.matches("button.focus")) {
      if (target.dataset.focus) this.focusPart(target.dataset.focus);
      else this.fitAll();
    } else if (target.matches(".part-toggle")) {
      this.togglePart(target.closest(".view").dataset.viewId, target.dataset.part);
    } else if (target.matches(".show-part")) {
      S.togglePartShown(this.state, target.dataset.part);
      this.state.hover = null;
      this.render();
    } else if (target.dataset.action) {
      this.command(target.dataset.action);
    }
  }

  onInput(event) {
    if (event.target.matches?.(".suggestions-hide")) {
      G.setHideUnder(this.state, event.target.value);
      this.schedule();
      return;
    }
    const id = event.target.id;
    if (id === "opacity") S.setOpacity(this.state, Number(event.target.value) / 100);
    else if (id === "brightness" || id === "contrast") this.state.filters[id] = Number(event.target.value);
    else return;
    this.schedule();
  }

  command(name) {
    const actions = {
      undo: () => this.undo(),
      redo: () => this.redo(),
      submit: () => this.submit(),
      help: () => this.toggleHelp(),
      occluded: () => this.flag("occluded"),
      unsure: () => this.flag("unsure"),
      reset: () => this.resetKeypoint(),
      refine: () => this.refine(),
      "accept-suggestions": () => this.acceptSuggestions(),
      "dismiss-suggestions": () => this.dismissSuggestions(),
      "suggest-other": () => this.refine(this.state.suggestions?.source === "pretrained" ? "refiner" : "pretrained"),
      "next-view": () => this.nextView(),
      "next-task": () => this.nextTask(),
      "dismiss-notice": () => {
        this.state.notice = null;
        this.render();
      },
    };
    actions[name]?.();
  }

  /** The zoom that focuses `part` in `view` (its keypoints framed and at least FOCUS_SPACING_PX apart). */
  partZoom(view, part, centre = null) {
    const members = S.focusMembers(this.state.layout, part);
    const pos = view.current.map((_, k) => S.position(view, k));
    const vp = this.viewEls.get(String(view.id)).querySelector(".viewport");
    return focusZoom(pos, members, [view.width, view.height], [vp.clientWidth || 1, vp.clientHeight || 1], { centre });
  }

  focusPart(part) {
    S.setFocus(this.state, part);
    // The panel first: it lays out the views (see render), whose sizes the zoom depends on.
    renderPanel(this.state, this.root);
    for (const view of this.state.views) {
      const zoom = this.partZoom(view, part);
      if (zoom) S.setZoom(this.state, view.id, zoom);
    }
    this.render();
  }

  /** Jump to the next view that disagrees on the selected keypoint: make it active, zoom and centre it there. */
  nextView() {
    const k = this.state.selection;
    const next = S.nextFlaggedView(this.state, k, this.active);
    if (next === null) return;
    const view = this.view(next);
    this.active = view.id;
    if (this.state.enlarged !== null) this.state.enlarged = view.id;
    renderPanel(this.state, this.root);
    const zoom = this.partZoom(view, S.focusPartOf(this.state.layout, k), S.position(view, k));
    if (zoom) S.setZoom(this.state, view.id, zoom);
    this.state.notice = `correct ${keypointLabel(this.state.layout, k)} in camera ${view.camera}: drag it onto the person`;
    this.render();
  }

  fitAll() {
    S.resetZoom(this.state);
    this.render();
  }

  toggleHelp(show = null) {
    const dialog = this.root.querySelector("dialog.help");
    const open = show ?? !dialog.open;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }

  // --- keyboard ------------------------------------------------------------------------------------

  onKeyDown(event) {
    // An open dialog owns the keyboard: Escape closes it (the browser does that), nothing reaches the views.
    if (this.modalOpen() || isTextInput(event.target)) return;
    const key = event.key;
    const ctrl = event.ctrlKey || event.metaKey;
    const lower = key.length === 1 ? key.toLowerCase() : key;
    if (ctrl) {
      if (lower === "z" && !event.shiftKey) this.undo();
      else if ((lower === "z" && event.shiftKey) || lower === "y") this.redo();
      else if (key === "Enter") this.submit();
      else return;
      event.preventDefault();
      return;
    }
    if (event.altKey) return;
    if (key === " ") {
      this.space = true;
      event.preventDefault();
      return;
    }
    const focus = this.state.layout.focus_parts.find((p) => focusKey(p) === lower);
    if (focus && event.shiftKey && this.state.layout.validity_parts.includes(focus)) {
      this.togglePart(this.active, focus);
    } else if (focus && !event.shiftKey) {
      this.focusPart(focus);
    } else if (/^[1-9]$/.test(key) && Number(key) <= this.state.views.length) {
      this.toggleEnlarged(this.state.views[Number(key) - 1].id);
    } else if (key === "Enter" && G.hasSuggestions(this.state)) {
      this.acceptSuggestions();
    } else if (key === "Escape" && G.hasSuggestions(this.state)) {
      this.dismissSuggestions();
    } else if (key === "Enter") {
      this.toggleEnlarged(this.state.enlarged ?? this.active);
    } else if (key === "Escape") {
      if (this.state.enlarged !== null) this.toggleEnlarged(this.state.enlarged);
    } else if (key === "0") {
      this.fitAll();
    } else if (lower === "n" || (key === "Tab" && !event.shiftKey)) {
      S.selectStep(this.state, 1);
      this.render();
    } else if (lower === "p" || (key === "Tab" && event.shiftKey)) {
      S.selectStep(this.state, -1);
      this.render();
    } else if (lower === "o") {
      this.flag("occluded");
    } else if (lower === "u") {
      this.flag("unsure");
    } else if (lower === "g") {
      this.refine();
    } else if (lower === "v") {
      this.nextView();
    } else if (key === "Backspace" || key === "Delete") {
      this.resetKeypoint();
    } else if (key === "?") {
      this.toggleHelp();
    } else {
      return;
    }
    event.preventDefault();
  }

  onKeyUp(event) {
    if (event.key === " ") this.space = false;
  }

  /** The submit confirmation closed: submit if the annotator said so. */
  onConfirmClose(event) {
    if (event.currentTarget.returnValue !== "submit") return;
    S.enqueue(this.state, { kind: "submit", path: this.state.task.submit_url ?? this.url("submit"), body: {}, label: "submit" });
    this.flush();
  }

  // --- changes: each is a queued write -----------------------------------------------------------

  canEdit() {
    if (!S.isReadOnly(this.state)) return true;
    this.state.notice = "read-only: this change was not made";
    this.render();
    return false;
  }

  url(name) {
    return `${this.urls.task}${name}/`;
  }

  /** Move keypoint k of `view` to (x, y) (null: back to the dataset position); `flag` optional; `source`
   * "model" for an accepted refiner suggestion (the server's default is "manual"). */
  correct(view, k, x, y, flag = undefined, source = undefined) {
    if (!this.canEdit()) return;
    if (x !== null) S.dropKeypoint(this.state, view.id, k, x, y);
    if (flag) view.flags[k] = flag;
    const body = { view: view.id, keypoint: k, x, y };
    if (flag) body.flag = flag;
    if (source) body.source = source;
    const name = this.state.layout.names[k];
    S.enqueue(this.state, { kind: "correction", path: this.url("corrections"), body, label: `${name} in camera ${view.camera}` });
    this.render();
    this.flush();
  }

  flag(flag) {
    const k = this.state.selection;
    const view = this.view(this.active);
    if (k === null || !view) return;
    const p = S.position(view, k);
    if (!p) return;
    const next = view.flags[k] === flag ? "visible" : flag;
    this.correct(view, k, p[0], p[1], next);
  }

  resetKeypoint() {
    const k = this.state.selection;
    const view = this.view(this.active);
    if (k === null || !view || !view.corrected[k]) return;
    this.correct(view, k, null, null);
  }

  // --- refiner suggestions (suggestions.js) -------------------------------------------------------

  /** Ask a model (`auto`: the server's default for this data) where the focused face or hand should be in the
   * active view; shows its suggestions, and the panel says which model made them. */
  async refine(model = "auto") {
    if (!this.canEdit()) return;
    const part = this.state.focus;
    const view = this.view(this.active);
    if (!this.state.layout.validity_parts.includes(part) || !view) {
      const keys = this.state.layout.validity_parts.map(focusKey).join(", ");
      this.state.notice = `suggestions are for the face and the hands: focus one (${keys}), then refine (g)`;
      this.render();
      return;
    }
    this.state.notice = null;
    S.setStatus(this.state, S.SAVING, `asking for the ${part.replace(/_/g, " ")} in camera ${view.camera}…`);
    this.render();
    try {
      G.setSuggestions(this.state, await this.api.post(this.url("refine"), { view: view.id, part, model }));
      if (!G.hasSuggestions(this.state)) this.state.notice = "the model had nothing to suggest";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.state.notice = `could not refine: ${error.message}`;
    }
    if (!this.state.pending.length) S.settledStatus(this.state);
    this.render();
  }

  /** Accept keypoint k's suggestion, or all of them (k null): each becomes a model-assisted correction. */
  acceptSuggestions(k = null) {
    if (!this.canEdit()) return;
    const writes = k === null ? G.acceptAllSuggestions(this.state) : [G.acceptSuggestion(this.state, k)].filter(Boolean);
    for (const w of writes) this.correct(this.view(w.view), w.k, w.x, w.y, undefined, "model");
    this.render();
  }

  dismissSuggestions() {
    G.dismissSuggestions(this.state);
    this.render();
  }

  togglePart(viewId, part) {
    if (!this.canEdit()) return;
    const view = this.view(viewId);
    if (!view) return;
    const valid = view.part_valid[part] === false;
    view.part_valid[part] = valid;
    S.enqueue(this.state, {
      kind: "part", path: this.url("parts"), body: { view: view.id, part, valid },
      label: `${part.replace(/_/g, " ")} in camera ${view.camera}`,
    });
    this.render();
    this.flush();
  }

  undo() {
    if (!this.canEdit() || S.undoDepths(this.state).undo === 0) return;
    S.enqueue(this.state, { kind: "undo", path: this.url("undo"), body: {}, label: "undo" });
    this.render();
    this.flush();
  }

  redo() {
    if (!this.canEdit() || S.undoDepths(this.state).redo === 0) return;
    S.enqueue(this.state, { kind: "redo", path: this.url("redo"), body: {}, label: "redo" });
    this.render();
    this.flush();
  }

  /** Ask before submitting, in the page (saves and the live connection go on while the question is open). */
  submit() {
    if (!this.canEdit()) return;
    const dialog = this.root.querySelector("dialog.confirm-submit");
    if (dialog.open) return;
    const pending = this.state.pending.length;
    const corrected = (this.state.task.corrected_keypoints ?? []).length;
    dialog.querySelector(".confirm-text").textContent =
      `Task ${this.state.task.id}: ${corrected} keypoint${corrected === 1 ? "" : "s"} corrected. A reviewer will accept it or send it back;` +
      ` you cannot change it meanwhile.` + (pending ? ` ${pending} change(s) are still being saved and go first.` : "");
    dialog.returnValue = "";
    dialog.showModal();
  }

  /** After a submit: open the next task of the queue, or say there is none. */
  async nextTask() {
    try {
      const task = await this.api.post(this.urls.next, {});
      window.location.assign(task.editor_url);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.state.notice = error.status === NOT_FOUND ? "no task left in your queue: well done" : `could not open the next task: ${error.message}`;
      this.render();
    }
  }

  /** Send the pending writes in order (write-queue.js: retry, conflicts, refusals). */
  flush() {
    return this.writes.flush();
  }

  async applyAnswer(write, answer) {
    S.noteAnswered(this.state, write.kind);
    if (write.kind === "correction") {
      S.applyCorrectionAnswer(this.state, answer);
    } else if (write.kind === "part") {
      S.applyPartAnswer(this.state, answer);
    } else if (write.kind === "submit") {
      S.applyStatus(this.state, { status: answer?.status ?? "submitted", revision: answer?.revision });
      this.state.notice = "submitted for review: open the next task when you are ready";
      this.root.querySelector("[data-action=next-task]").hidden = false;
      await this.refresh(); // the server decides what may still be edited
    } else if (UNDO_KINDS.has(write.kind)) {
      if (answer?.correction) S.applyCorrectionAnswer(this.state, answer, { undo: true });
      if (answer?.part_validity) S.applyPartAnswer(this.state, { revision: answer.revision, ...answer.part_validity });
      await this.refresh();
    }
  }

  /** Replace the server's part of the state with a fresh task payload. */
  async refresh() {
    try {
      S.applyServerState(this.state, await this.api.get(this.urls.task));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.state.notice = `could not reload the task: ${error.message}`;
    }
    this.render();
  }

  // --- websocket -----------------------------------------------------------------------------------

  onSocketOpen(reconnected) {
    this.state.connection = "connected";
    this.render();
    if (reconnected) {
      const pending = this.state.pending.length;
      this.state.notice = "the connection is back" +
        (pending ? `: sending the ${pending} change(s) made while it was lost` : "");
      this.refresh().then(() => this.flush());
    }
    else if (this.state.pending.length) this.flush();
  }

  onSocketClose() {
    this.state.connection = "disconnected";
    this.render();
  }

  /** A websocket message replaces part of the state, then the screen is redrawn. */
  onSocketMessage(message) {
    const state = this.state;
    const revision = message.revision;
    const stale = revision !== undefined && revision <= state.task.revision;
    const gap = revision !== undefined && revision > state.task.revision + 1;
    switch (message.type) {
      case "lock":
        S.applyLock(state, { ...message, mine: message.mine ?? message.holder === state.user });
        break;
      case "status":
        S.applyStatus(state, message);
        this.refresh(); // a new status changes who may edit: the server says
        break;
      case "correction":
        if (stale) return;
        if (gap || UNDO_KINDS.has(message.correction?.kind)) {
          this.refresh();
          return;
        }
        S.applyCorrectionAnswer(state, message);
        break;
      case "part":
        if (stale) return;
        if (gap) {
          this.refresh();
          return;
        }
        S.applyPartAnswer(state, message);
        break;
      default:
        return;
    }
    if (!state.pending.length && state.status.kind === S.SAVED) S.settledStatus(state);
    this.schedule();
  }
}
