// The editor's input: pointer, wheel and double-click on the views become drags, pans, zooms and picks
// (PointerInput), and keys become editor commands (keyCommand, a pure map from a key event to the command
// and its arguments, tested without a browser). What a command does lives in editor.js; this module only
// decides which one the annotator asked for.

import { epipolarCurve, nearestPoint, panBy, toImage, zoomAround } from "./geometry.js";
import { focusKey } from "./panel.js";
import { applyTransform, dragHandles, drawEpipolar, drawnTransform, moveDragHandles, transformOf } from "./render.js";
import * as S from "./state.js";
import * as G from "./suggestions.js";

/** Screen pixels within which a pointer grabs a keypoint. */
export const GRAB_PX = 9;
/** A drag shorter than this (image px) is a click, not a correction. */
export const MIN_MOVE_PX = 0.3;
/** Wheel zoom speed: factor exp(-deltaY * WHEEL_RATE). */
export const WHEEL_RATE = 0.0015;

/** Whether a key event's target takes text (a comment box, a select): keys typed there are not commands. */
export const isTextInput = (target) =>
  target instanceof HTMLElement && (target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName) ||
    (target.tagName === "INPUT" && !["range", "checkbox", "button"].includes(target.type)));

/**
 * The editor command a key press asks for: [method, ...args] (an Editor method name), or null when the key
 * means nothing here (the browser keeps it). `event` needs key, ctrlKey, metaKey, shiftKey, altKey;
 * `active` is the view keys act on. Space ("hold-space") makes a drag pan instead of grabbing.
 */
export function keyCommand(event, state, active) {
  const key = event.key;
  const lower = key.length === 1 ? key.toLowerCase() : key;
  if (event.ctrlKey || event.metaKey) {
    if (lower === "z" && !event.shiftKey) return ["undo"];
    if ((lower === "z" && event.shiftKey) || lower === "y") return ["redo"];
    if (key === "Enter") return ["submit"];
    return null;
  }
  if (event.altKey) return null;
  if (key === " ") return ["holdSpace"];
  const focus = state.layout.focus_parts.find((p) => focusKey(p) === lower);
  if (focus && event.shiftKey && state.layout.validity_parts.includes(focus)) return ["togglePart", active, focus];
  if (focus && !event.shiftKey) return ["focusPart", focus];
  if (/^[1-9]$/.test(key) && Number(key) <= state.views.length) return ["toggleEnlarged", state.views[Number(key) - 1].id];
  if (key === "Enter" && G.hasSuggestions(state)) return ["acceptSuggestions"];
  if (key === "Escape" && G.hasSuggestions(state)) return ["dismissSuggestions"];
  if (key === "Enter") return ["toggleEnlarged", state.enlarged ?? active];
  // Escape with nothing enlarged is still the editor's key (nothing happens, the browser does nothing either).
  if (key === "Escape") return state.enlarged !== null ? ["toggleEnlarged", state.enlarged] : ["nothing"];
  if (key === "0") return ["fitAll"];
  if (lower === "n" || (key === "Tab" && !event.shiftKey)) return ["selectStep", 1];
  if (lower === "p" || (key === "Tab" && event.shiftKey)) return ["selectStep", -1];
  if (lower === "o") return ["flag", "occluded"];
  if (lower === "u") return ["flag", "unsure"];
  if (lower === "g") return ["refine"];
  if (lower === "v") return ["nextView"];
  if (key === "Backspace" || key === "Delete") return ["resetKeypoint"];
  if (key === "?") return ["toggleHelp"];
  return null;
}

/** Pointer input on the views of an Editor: grabbing and dragging keypoints, panning, zooming, hovering. */
export class PointerInput {
  constructor(editor) {
    this.editor = editor;
    this.pointer = null; // {mode: "drag" | "pan", ...}
    this.space = false; // space held: a drag pans
  }

  locate(event) {
    const viewEl = event.currentTarget.closest(".view");
    const view = this.editor.view(viewEl.dataset.viewId);
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    // The transform the view is drawn with, so that the pointer grabs the marker it is over.
    const t = drawnTransform(viewEl) ?? transformOf(this.editor.state, view, viewEl);
    const [x, y] = toImage(t, px, py);
    return { viewEl, view, px, py, t, x, y, viewport: [rect.width, rect.height] };
  }

  hit(at) {
    // Hidden parts are not drawn, so they are not grabbed either.
    const pos = at.view.current.map((_, k) => (S.isShown(this.editor.state, k) ? S.position(at.view, k) : null));
    const sel = this.editor.state.selection;
    // The selected keypoint wins ties, so that it can be grabbed out of a dense cluster.
    if (sel !== null && pos[sel] && Math.hypot(pos[sel][0] - at.x, pos[sel][1] - at.y) * at.t.s <= GRAB_PX) return sel;
    return nearestPoint(pos, at.x, at.y, GRAB_PX / at.t.s);
  }

  onPointerDown(event) {
    const at = this.locate(event);
    this.editor.active = at.view.id;
    event.currentTarget.focus({ preventScroll: true });
    if (event.button === 0 && !this.space && G.hasSuggestions(this.editor.state, at.view.id)) {
      const s = G.nearestSuggestion(this.editor.state, at.view.id, at.x, at.y, GRAB_PX / at.t.s);
      if (s >= 0) {
        event.preventDefault();
        this.editor.acceptSuggestions(s);
        return;
      }
    }
    const k = event.button === 0 && !this.space ? this.hit(at) : -1;
    event.currentTarget.setPointerCapture(event.pointerId);
    event.preventDefault();
    this.editor.state.hover = null;
    if (k >= 0) {
      S.select(this.editor.state, k);
      this.editor.render();
      const editable = !S.isReadOnly(this.editor.state) && S.isValidIn(this.editor.state, at.view, k);
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
        const zoom = panBy(this.editor.state.zoom[p.view.id], [p.view.width, p.view.height], at.viewport, at.px - p.last[0], at.py - p.last[1]);
        p.last = [at.px, at.py];
        S.setZoom(this.editor.state, p.view.id, zoom);
        applyTransform(p.viewEl, transformOf(this.editor.state, p.view, p.viewEl));
      }
      return;
    }
    if (p) return;
    const at = this.locate(event);
    this.editor.active = at.view.id;
    const k = this.hit(at);
    const hover = k >= 0 ? { view: at.view.id, k } : null;
    const old = this.editor.state.hover;
    if ((old?.k ?? -1) !== (hover?.k ?? -1) || String(old?.view) !== String(hover?.view)) {
      this.editor.state.hover = hover;
      at.viewEl.classList.toggle("over-point", k >= 0);
      this.editor.schedule(at.view.id, ...(old ? [old.view] : []));
    }
  }

  /** One animation frame of a drag: the dragged marker and the epipolar curves in the other views. */
  dragFrame() {
    const p = this.pointer;
    if (!p || p.mode !== "drag") return;
    p.pending = false;
    moveDragHandles(p.handles, p.at[0], p.at[1]);
    const color = this.editor.state.layout.colors[this.editor.state.layout.part_of[p.k]];
    for (const other of this.editor.state.views) {
      if (other.id === p.view.id) continue;
      const curve = epipolarCurve(p.view.camera_params, other.camera_params, p.at, this.editor.state.epipolarDepths ?? undefined);
      drawEpipolar(this.editor.viewEls.get(String(other.id)), curve, color);
    }
  }

  onPointerUp(event) {
    const p = this.pointer;
    if (!p || p.id !== event.pointerId) return;
    this.pointer = null;
    p.viewEl.classList.remove("dragging", "panning");
    if (p.mode !== "drag") return;
    for (const el of this.editor.viewEls.values()) drawEpipolar(el, []);
    const moved = Math.hypot(p.at[0] - p.start[0], p.at[1] - p.start[1]);
    if (event.type === "pointercancel" || moved < MIN_MOVE_PX) {
      this.editor.render();
      return;
    }
    this.editor.correct(p.view, p.k, p.at[0], p.at[1]);
  }

  onPointerLeave() {
    if (this.pointer || !this.editor.state.hover) return;
    const old = this.editor.state.hover;
    this.editor.state.hover = null;
    this.editor.schedule(old.view);
  }

  onWheel(event) {
    event.preventDefault();
    const at = this.locate(event);
    const factor = Math.exp(-event.deltaY * WHEEL_RATE);
    S.setZoom(this.editor.state, at.view.id, zoomAround(this.editor.state.zoom[at.view.id], [at.view.width, at.view.height], at.viewport, at.px, at.py, factor));
    this.editor.state.hover = null;
    this.editor.schedule(at.view.id);
  }

  onDoubleClick(event) {
    const at = this.locate(event);
    if (this.hit(at) >= 0) return;
    this.editor.toggleEnlarged(at.view.id);
  }
}
