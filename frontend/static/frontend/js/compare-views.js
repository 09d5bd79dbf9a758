// Two skeleton versions over every view, read-only: the review mode of a task (before and after the
// corrections) and the frame page (any two versions) draw the same picture with render.js, whose "base"
// markers are the before and "current" the after. What both pages need of it lives here once: mounting
// the views, framing them on a part, drawing them, and the keypoints that moved most between the versions.

import { bbox, distance, zoomToBox } from "./geometry.js";
import { observeResize } from "./lifecycle.js";
import { layoutGrid, mountView, render } from "./render.js";

/** The keypoint indices of k's anatomical part in `layout` (the server's layout_json()). */
export function partIndices(layout, k) {
  const [a, b] = layout.parts[layout.part_of[k]];
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/**
 * The largest 2D displacement of each keypoint between base and current over the views, worst first:
 * [{k, px, camera}] for the keypoints that moved more than `minPx` in some view (a keypoint missing in a
 * view does not count there).
 */
export function displacements(state, minPx) {
  const out = [];
  for (let k = 0; k < state.layout.names.length; k++) {
    let best = null;
    for (const view of state.views) {
      const d = distance(view.base[k], view.current[k]);
      if (d !== null && (best === null || d > best.px)) best = { k, px: d, camera: view.camera };
    }
    if (best && best.px > minPx) out.push(best);
  }
  return out.sort((a, b) => b.px - a.px);
}

/** Build every view of `state` in `container`, recorded in `viewEls` (id -> element); returns their images. */
export function mountViews(container, state, viewEls) {
  const images = [];
  for (const view of state.views) {
    const el = mountView(container, view, state.layout);
    viewEls.set(view.id, el);
    images.push(el.querySelector("img.frame"));
  }
  if (state.views.length === 1) container.classList.add("single");
  return images;
}

/** Frame every view on the keypoints `indices` of both versions, or on the whole person (null). */
export function frameOn(state, viewEls, indices) {
  for (const view of state.views) {
    const vp = viewEls.get(view.id).querySelector(".viewport");
    const n = view.current.length;
    const ids = indices ? [...indices, ...indices.map((k) => k + n)] : undefined;
    const box = bbox([...view.current, ...view.base], ids);
    if (box) state.zoom[view.id] = zoomToBox(box, [view.width, view.height], [vp.clientWidth || 1, vp.clientHeight || 1]);
  }
}

/** Lay the views out and draw each. */
export function renderViews(container, state, viewEls) {
  layoutGrid(container, state.views);
  for (const view of state.views) render(state, viewEls.get(view.id), view);
}

/**
 * What both pages attach to their views (through `listeners`, lifecycle.js): a double-click frames the
 * whole person again, and a view is redrawn whenever its size changes (the panel filling in, the window),
 * so it is drawn for the size it has. `getState()` is the page's current state; `redraw()` draws it.
 */
export function listenViews(listeners, container, viewEls, getState, redraw) {
  listeners.listen(container, "dblclick", () => {
    frameOn(getState(), viewEls, null);
    redraw();
  });
  const viewports = [...viewEls.values()].map((el) => el.querySelector(".viewport"));
  listeners.keep(observeResize(viewports, () => redraw()));
}
