// The editor's controller: the commands that pointer, wheel and keyboard input asks for (editor-input.js)
// and websocket messages become state changes (state.js), the screen is redrawn from the state
// (render.js, panel.js), and every change the annotator makes is queued as a write and sent in order
// (write-queue.js). Listeners attach in on() and detach in off().

import { ApiError } from "./api.js";
import { isTextInput, keyCommand, PointerInput } from "./editor-input.js";
import { focusZoom } from "./geometry.js";
import { focusKey, mountToolbar, renderPanel } from "./panel.js";
import { keypointLabel, layoutGrid, mountView, partLabel, render } from "./render.js";
import * as S from "./state.js";
import * as G from "./suggestions.js";
import { WriteQueue } from "./write-queue.js";

/** Write kinds that change a keypoint's position and answer like a correction. */
const UNDO_KINDS = new Set(["undo", "redo"]);
const NOT_FOUND = 404;
/** Milliseconds a notice stays up (it can be dismissed sooner); the status line keeps what still matters. */
const NOTICE_MS = 8000;

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
    this.input = new PointerInput(this);
    this.frame = 0;
    this.dirty = new Set();
    this.writes = new WriteQueue(state, {
      post: (path, body) => this.api.post(path, body),
      refresh: () => this.refresh(),
      apply: (write, answer) => this.applyAnswer(write, answer),
      progress: () => renderPanel(this.state, this.root),
      done: () => this.render(),
    });
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
      const input = this.input;
      this.listen(vp, "pointerdown", (e) => input.onPointerDown(e));
      this.listen(vp, "pointermove", (e) => input.onPointerMove(e));
      this.listen(vp, "pointerup", (e) => input.onPointerUp(e));
      this.listen(vp, "pointercancel", (e) => input.onPointerUp(e));
      this.listen(vp, "pointerleave", () => input.onPointerLeave());
      this.listen(vp, "wheel", (e) => input.onWheel(e), { passive: false });
      this.listen(vp, "dblclick", (e) => input.onDoubleClick(e));
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

  // --- keyboard (the key map is editor-input.js's keyCommand) ---------------------------------------

  onKeyDown(event) {
    // An open dialog owns the keyboard: Escape closes it (the browser does that), nothing reaches the views.
    if (this.modalOpen() || isTextInput(event.target)) return;
    const command = keyCommand(event, this.state, this.active);
    if (!command) return;
    const [name, ...args] = command;
    this[name](...args);
    event.preventDefault();
  }

  onKeyUp(event) {
    if (event.key === " ") this.input.space = false;
  }

  /** Space held: a drag pans instead of grabbing a keypoint (until the key is released). */
  holdSpace() {
    this.input.space = true;
  }

  /** A key the editor owns that has nothing to do now (Escape with no view enlarged). */
  nothing() {}

  /** Select the next (1) or previous (-1) keypoint. */
  selectStep(step) {
    S.selectStep(this.state, step);
    this.render();
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
    const parts = this.state.layout.validity_parts;
    if (!parts.includes(part) || !view) {
      // The refiners suggest the parts whose validity the layout records; a body-only layout has none.
      const keys = parts.map(focusKey).join(", ");
      this.state.notice = parts.length
        ? `suggestions are for the ${parts.map(partLabel).join(", ")}: focus one (${keys}), then refine (g)`
        : `no refiner for the ${this.state.layout.name} layout: its keypoints are corrected by hand`;
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
