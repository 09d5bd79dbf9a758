// Draws the views of a state: the image, the projected skeleton (links coloured by part, keypoints,
// corrected marks, dataset positions, reprojection ghosts), the selection and the hover tooltip, as an
// SVG in image pixels layered over the image, both inside one transformed "stage".
//
// It knows nothing about events or the network: mountView() builds a view's elements once, render()
// replays a state into them (clear + redraw), and the drag helpers move the few elements a pointer
// move changes, so a drag never redraws the scene.

import { escape } from "./format.js";
import { distance, gridColumns, medianSpacing, viewTransform } from "./geometry.js";
import { isShown, isValidIn, position } from "./state.js";
import { suggestionsIn } from "./suggestions.js";

const SVG = "http://www.w3.org/2000/svg";

/** Marker radii and stroke widths in screen pixels (divided by the zoom when drawn). */
const R_POINT = 4;
const R_SELECTED = 8;
/** Dense parts (face, hands): the radius follows how far apart their markers are on screen (a fraction
 * of the median neighbour distance, within these bounds), so 68 face points never merge into a blob. */
const R_DENSE_MAX = 3.2;
const R_DENSE_MIN = 1.1;
const DENSE_FRACTION = 0.3;
const R_BASE = 2.4;
const R_GHOST = 5;
/** Half the arm of a refiner suggestion's cross. */
const R_SUGGESTION = 5;
/** Parts with more keypoints than this are dense (the face's 68, each hand's 21): their markers follow R_DENSE_*. */
const DENSE_PART = 20;
/** A dataset position this far (image px) from the drawn one gets a marker. */
const BASE_SHOWN_PX = 1.0;
/** A ghost this far (image px) from the drop gets drawn. */
const GHOST_SHOWN_PX = 0.5;

const fmt = (v) => (Math.round(v * 100) / 100).toString();

/** Human label of a part name ("left_hand" -> "left hand"). */
export function partLabel(part) {
  return part.replace(/_/g, " ");
}

/** What people call keypoint k: the layout's label ("left wrist", "jaw 3"), else its name. */
export function keypointLabel(layout, k) {
  return layout.labels?.[k] ?? layout.names[k];
}

function el(tag, attrs = {}, ns = null) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/** Build a view's elements inside `container` (once); returns the view element. */
export function mountView(container, view, layout, key = null) {
  const root = el("section", { class: "view", "data-view-id": view.id, "data-camera": view.camera });
  const head = el("header", { class: "view-head" });
  head.innerHTML =
    `<span class="cam">${escape(view.camera)}</span><span class="view-info"></span>` +
    `<span class="part-toggles">${layout.validity_parts
      .map((p) => `<button type="button" class="part-toggle" data-part="${p}" title="mark ${partLabel(p)} as not annotatable in this view">${partLabel(p)}</button>`)
      .join("")}</span>`;
  const viewport = el("div", { class: "viewport", tabindex: "-1" });
  if (key) head.querySelector(".cam").dataset.key = key; // the number key that enlarges it (editor)
  const stage = el("div", { class: "stage" });
  const img = el("img", { class: "frame", alt: `camera ${view.camera}`, draggable: "false", decoding: "async" });
  img.width = view.width;
  img.height = view.height;
  const svg = el("svg", { class: "overlay", width: view.width, height: view.height, viewBox: `0 0 ${view.width} ${view.height}` }, SVG);
  for (const name of ["links", "base", "ghosts", "points", "selection", "suggestions", "epipolar"]) {
    svg.appendChild(el("g", { class: `layer-${name}` }, SVG));
  }
  const epipolar = svg.querySelector(".layer-epipolar");
  epipolar.appendChild(el("polyline", { class: "epipolar-halo", points: "" }, SVG));
  epipolar.appendChild(el("polyline", { class: "epipolar-curve", points: "" }, SVG));
  const tooltip = el("div", { class: "tooltip", hidden: "" });
  stage.append(img, svg);
  viewport.append(stage, tooltip);
  root.append(head, viewport);
  container.appendChild(root);
  img.src = view.image_url;
  return root;
}

/**
 * Lay out `views` (any number) in `container` as the grid that shows each image largest for the
 * container's size: sets its `--cols` (the CSS repeats that many columns). Returns the column count.
 */
export function layoutGrid(container, views) {
  if (!views.length) return 0;
  const style = getComputedStyle(container);
  const width = container.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const height = container.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const gap = parseFloat(style.columnGap) || 0;
  const head = container.querySelector(".view-head")?.offsetHeight ?? 0;
  const aspect = views[0].width / views[0].height;
  const cols = gridColumns(views.length, width, height, aspect, head, gap);
  if (container.style.getPropertyValue("--cols") !== String(cols)) container.style.setProperty("--cols", String(cols));
  container.dataset.views = String(views.length);
  return cols;
}

/** The screen transform of a view element for the state's zoom (reads the viewport's size). */
export function transformOf(state, view, viewEl) {
  const vp = viewEl.querySelector(".viewport");
  return viewTransform(state.zoom[view.id], [view.width, view.height], [vp.clientWidth || 1, vp.clientHeight || 1]);
}

// The transform each view was last drawn with: what the user sees. Pointer positions are mapped to image
// pixels with it (drawnTransform), never with one recomputed from the viewport's size at event time, which
// may have changed since the last draw (a banner, the toolbar wrapping, the window): then the markers on
// screen and the hit test would disagree.
const drawn = new WeakMap();

/** Apply only the zoom of a view (a pan): no marker changes. */
export function applyTransform(viewEl, t) {
  viewEl.querySelector(".stage").style.transform = `translate(${t.tx}px, ${t.ty}px) scale(${t.s})`;
  drawn.set(viewEl, t);
}

/** The transform `viewEl` is drawn with now (null before its first draw). */
export function drawnTransform(viewEl) {
  return drawn.get(viewEl) ?? null;
}

/** Screen radius of every keypoint's marker in a view drawn at scale `s` (see R_DENSE_*). */
export function markerRadii(layout, pos, s) {
  const radii = new Array(pos.length).fill(R_POINT);
  for (const [a, b] of Object.values(layout.parts)) {
    if (b - a <= DENSE_PART) continue;
    const spacing = medianSpacing(pos, Array.from({ length: b - a }, (_, i) => a + i));
    const r = spacing === null ? R_DENSE_MAX : Math.min(R_DENSE_MAX, Math.max(R_DENSE_MIN, DENSE_FRACTION * spacing * s));
    radii.fill(r, a, b);
  }
  return radii;
}

function pointClass(state, view, k) {
  const classes = ["kp"];
  if (view.corrected[k]) classes.push("corrected");
  const flag = view.flags[k];
  if (flag && flag !== "visible") classes.push(flag);
  if (!isValidIn(state, view, k)) classes.push("invalid");
  return classes.join(" ");
}

/** Draw `view` of `state` into its element (everything but the transient drag elements). */
export function render(state, viewEl, view = state.views.find((v) => String(v.id) === viewEl.dataset.viewId)) {
  const { layout } = state;
  // Layout classes first: the transform depends on the viewport's size, which they change.
  viewEl.classList.toggle("enlarged", String(state.enlarged) === String(view.id));
  viewEl.parentElement.classList.toggle("has-enlarged", state.enlarged !== null);
  const t = transformOf(state, view, viewEl);
  applyTransform(viewEl, t);
  const inv = 1 / t.s;
  const colors = layout.colors;
  const pos = view.current.map((_, k) => position(view, k));
  const radii = markerRadii(layout, pos, t.s);
  const shown = pos.map((_, k) => isShown(state, k));

  const links = [];
  for (const [a, b, part] of layout.links) {
    const pa = pos[a];
    const pb = pos[b];
    if (!pa || !pb || !shown[a] || !shown[b]) continue;
    const invalid = !isValidIn(state, view, a) || !isValidIn(state, view, b);
    links.push(
      `<line data-a="${a}" data-b="${b}" class="link${invalid ? " invalid" : ""}" stroke="${colors[part] ?? colors.connector}" ` +
        `x1="${fmt(pa[0])}" y1="${fmt(pa[1])}" x2="${fmt(pb[0])}" y2="${fmt(pb[1])}"/>`,
    );
  }

  const bases = [];
  const ghosts = [];
  const points = [];
  for (let k = 0; k < pos.length; k++) {
    if (!shown[k]) continue;
    const p = pos[k];
    const part = layout.part_of[k];
    const base = view.base[k];
    if (base && p && distance(base, p) > BASE_SHOWN_PX) {
      bases.push(
        `<line class="base-offset" x1="${fmt(base[0])}" y1="${fmt(base[1])}" x2="${fmt(p[0])}" y2="${fmt(p[1])}"/>` +
          `<circle class="base" data-k="${k}" cx="${fmt(base[0])}" cy="${fmt(base[1])}" r="${fmt(R_BASE * inv)}"/>`,
      );
    }
    const ghost = state.ghosts[k]?.[view.id];
    if (ghost && p && view.annotated[k] && distance(ghost, p) > GHOST_SHOWN_PX) {
      ghosts.push(
        `<line class="ghost-offset" x1="${fmt(p[0])}" y1="${fmt(p[1])}" x2="${fmt(ghost[0])}" y2="${fmt(ghost[1])}"/>` +
          `<circle class="ghost" data-k="${k}" cx="${fmt(ghost[0])}" cy="${fmt(ghost[1])}" r="${fmt(R_GHOST * inv)}"/>`,
      );
    }
    if (!p) continue;
    const r = radii[k] * (view.corrected[k] ? 1.25 : 1);
    points.push(
      `<circle data-k="${k}" class="${pointClass(state, view, k)}" data-part="${part}" style="--c:${colors[part]}" ` +
        `cx="${fmt(p[0])}" cy="${fmt(p[1])}" r="${fmt(r * inv)}"/>`,
    );
  }

  const svg = viewEl.querySelector("svg.overlay");
  svg.style.setProperty("--inv", inv);
  svg.style.setProperty("--skeleton-opacity", state.opacity ?? 1);
  svg.querySelector(".layer-links").innerHTML = links.join("");
  svg.querySelector(".layer-base").innerHTML = bases.join("");
  svg.querySelector(".layer-ghosts").innerHTML = ghosts.join("");
  svg.querySelector(".layer-points").innerHTML = points.join("");
  const sel = state.selection;
  const sp = sel === null || !shown[sel] ? null : pos[sel];
  svg.querySelector(".layer-selection").innerHTML = sp
    ? `<circle class="selected-halo" data-k="${sel}" cx="${fmt(sp[0])}" cy="${fmt(sp[1])}" r="${fmt(R_SELECTED * inv)}"/>` +
      `<circle class="selected" data-k="${sel}" cx="${fmt(sp[0])}" cy="${fmt(sp[1])}" r="${fmt(R_SELECTED * inv)}"/>`
    : "";

  svg.querySelector(".layer-suggestions").innerHTML = suggestionMarks(state, view, pos, inv);

  renderHead(state, view, viewEl);
  renderTooltip(state, view, viewEl, t, pos);
  const img = viewEl.querySelector("img.frame");
  const filter = `brightness(${state.filters.brightness}%) contrast(${state.filters.contrast}%)`;
  if (img.style.filter !== filter) img.style.filter = filter;
}

/** The model's suggestions in `view`: a cross at each, joined to where its keypoint is drawn now; a keypoint the
 * annotator corrected or flagged here is marked "kept" (accept all leaves it; a click still accepts it). */
function suggestionMarks(state, view, pos, inv) {
  const r = R_SUGGESTION * inv;
  return suggestionsIn(state, view.id)
    .map(({ k, at, kept }) => {
      const [x, y] = at;
      const from = pos[k];
      const line = from ? `<line class="suggestion-offset" x1="${fmt(from[0])}" y1="${fmt(from[1])}" x2="${fmt(x)}" y2="${fmt(y)}"/>` : "";
      return (
        `${line}<g class="suggestion${kept ? " kept" : ""}" data-k="${k}"><title>suggested ${escape(state.layout.names[k])}` +
        `${kept ? ` (kept from accept all: ${kept} here)` : ""}: click to accept</title>` +
        `<line x1="${fmt(x - r)}" y1="${fmt(y - r)}" x2="${fmt(x + r)}" y2="${fmt(y + r)}"/>` +
        `<line x1="${fmt(x - r)}" y1="${fmt(y + r)}" x2="${fmt(x + r)}" y2="${fmt(y - r)}"/></g>`
      );
    })
    .join("");
}

function renderHead(state, view, viewEl) {
  const sel = state.selection;
  const flagged = sel !== null && (state.flagged[sel] ?? []).includes(String(view.id));
  viewEl.classList.toggle("flagged", flagged);
  const info = viewEl.querySelector(".view-info");
  let text = "";
  if (sel !== null) {
    const res = state.residuals[sel]?.[view.id];
    const parts = [keypointLabel(state.layout, sel)];
    if (Number.isFinite(res)) parts.push(`residual ${res.toFixed(1)} px`);
    if (view.corrected[sel]) parts.push("corrected");
    if (view.flags[sel] && view.flags[sel] !== "visible") parts.push(view.flags[sel]);
    text = parts.join(" · ");
  }
  if (info.textContent !== text) info.textContent = text;
  for (const button of viewEl.querySelectorAll(".part-toggle")) {
    const invalid = view.part_valid[button.dataset.part] === false;
    button.classList.toggle("off", invalid);
    button.setAttribute("aria-pressed", invalid ? "true" : "false");
  }
}

function renderTooltip(state, view, viewEl, t, pos) {
  const tip = viewEl.querySelector(".tooltip");
  const hover = state.hover;
  const k = hover && String(hover.view) === String(view.id) ? hover.k : null;
  if (k === null || !pos[k]) {
    tip.hidden = true;
    return;
  }
  const res = state.residuals[k]?.[view.id];
  const bits = [`${k} ${keypointLabel(state.layout, k)}`];
  if (view.corrected[k]) bits.push("corrected");
  if (view.flags[k] && view.flags[k] !== "visible") bits.push(view.flags[k]);
  if (Number.isFinite(res)) bits.push(`${res.toFixed(1)} px`);
  tip.textContent = bits.join(" · ");
  tip.style.left = `${t.s * pos[k][0] + t.tx + 10}px`;
  tip.style.top = `${t.s * pos[k][1] + t.ty - 26}px`;
  tip.hidden = false;
}

// --- drag: the only elements a pointer move touches -------------------------------------------------

/** The elements that follow keypoint k while it is dragged in `viewEl`. */
export function dragHandles(viewEl, k) {
  const svg = viewEl.querySelector("svg.overlay");
  return {
    point: svg.querySelector(`.layer-points circle[data-k="${k}"]`),
    selected: [...svg.querySelectorAll(`.layer-selection circle[data-k="${k}"]`)],
    from: [...svg.querySelectorAll(`.layer-links line[data-a="${k}"]`)],
    to: [...svg.querySelectorAll(`.layer-links line[data-b="${k}"]`)],
  };
}

/** Move the dragged keypoint's marker and its links to image point [x, y]. */
export function moveDragHandles(handles, x, y) {
  const sx = fmt(x);
  const sy = fmt(y);
  for (const c of [handles.point, ...handles.selected]) {
    if (!c) continue;
    c.setAttribute("cx", sx);
    c.setAttribute("cy", sy);
  }
  for (const line of handles.from) {
    line.setAttribute("x1", sx);
    line.setAttribute("y1", sy);
  }
  for (const line of handles.to) {
    line.setAttribute("x2", sx);
    line.setAttribute("y2", sy);
  }
}

/** Draw (or with null/[] clear) the epipolar polyline of a view; `color` is the dragged part's. */
export function drawEpipolar(viewEl, points, color = null) {
  const text = points && points.length ? points.map((p) => `${fmt(p[0])},${fmt(p[1])}`).join(" ") : "";
  for (const line of viewEl.querySelectorAll(".layer-epipolar polyline")) line.setAttribute("points", text);
  if (color) viewEl.querySelector(".epipolar-curve").style.setProperty("--c", color);
}
