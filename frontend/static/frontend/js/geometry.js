// Pure geometry for the editor: the calibrated camera (projection, lens distortion and its inverse),
// epipolar curves, the image <-> viewport transform of a zoomed view, bounding boxes and hit testing.
//
// No DOM, no network: every function takes plain data and returns plain data, so node's test runner
// checks it against annotator/geometry (camera.py) (tests/frontend/js/). Conventions are Python's: world mm,
// X_cam = R X_world + t, pixels of the distorted image; camera_params is Camera.to_dict():
// {K 3x3, R 3x3, t [3], dist [k1 k2 p1 p2 k3], size [w, h], model "opencv" | "h36m", name}.

/** Newton iterations of the lens inverse and its tolerances, as in annotator/geometry/camera.py. */
const UNDISTORT_MAX_ITER = 20;
const UNDISTORT_TOL = 1e-12;
const UNDISTORT_FAIL = 1e-9;

/** Epipolar samples keep an ideal projection within the image grown by this fraction (annotator/geometry/epipolar.py). */
export const EPIPOLAR_MARGIN = 0.25;

/** n depths (mm) spaced geometrically from lo to hi, like numpy.geomspace. */
export function geomspace(lo, hi, n) {
  const out = new Array(n);
  const step = Math.log(hi / lo) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = lo * Math.exp(step * i);
  out[0] = lo;
  out[n - 1] = hi;
  return out;
}

/** Default epipolar sample depths: 1 to 10 m along camera a's optical axis, 64 samples. */
export const EPIPOLAR_DEPTHS = geomspace(1000, 10000, 64);

/** Distorted normalised coordinates of ideal normalised (x, y) (distort_normalized). */
export function distortNormalized(cam, x, y) {
  const [k1, k2, p1, p2, k3] = cam.dist;
  const xx = x * x;
  const yy = y * y;
  const xy = x * y;
  const r2 = xx + yy;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  if (cam.model === "h36m") {
    const scale = radial + (p1 * x + p2 * y);
    return [x * scale + p1 * r2, y * scale + p2 * r2];
  }
  return [x * radial + 2 * p1 * xy + p2 * (r2 + 2 * xx), y * radial + p1 * (r2 + 2 * yy) + 2 * p2 * xy];
}

// d(xd, yd) / d(x, y) as [jxx, jxy, jyx, jyy].
function distortJacobian(cam, x, y) {
  const [k1, k2, p1, p2, k3] = cam.dist;
  const xx = x * x;
  const yy = y * y;
  const xy = x * y;
  const r2 = xx + yy;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  const dr = 2 * (k1 + r2 * (2 * k2 + 3 * k3 * r2));
  const cross = dr * xy;
  if (cam.model === "h36m") {
    const scale = radial + (p1 * x + p2 * y);
    return [
      scale + dr * xx + 3 * p1 * x,
      cross + p2 * x + 2 * p1 * y,
      cross + p1 * y + 2 * p2 * x,
      scale + dr * yy + 3 * p2 * y,
    ];
  }
  const jxy = cross + 2 * (p1 * x + p2 * y);
  return [radial + dr * xx + 2 * p1 * y + 6 * p2 * x, jxy, jxy, radial + dr * yy + 6 * p1 * y + 2 * p2 * x];
}

/**
 * Ideal normalised coordinates of distorted normalised (xd, yd): Newton's method started at (xd, yd).
 * Returns null where the lens model has no inverse (beyond its fold, far outside the image).
 */
export function undistortNormalized(cam, xd, yd) {
  if (!cam.dist.some((c) => c !== 0)) return [xd, yd];
  let x = xd;
  let y = yd;
  let rx = 0;
  let ry = 0;
  let det = 1;
  for (let i = 0; i < UNDISTORT_MAX_ITER; i++) {
    const [fx, fy] = distortNormalized(cam, x, y);
    rx = fx - xd;
    ry = fy - yd;
    if (!(Math.abs(rx) + Math.abs(ry) > UNDISTORT_TOL)) break;
    const [jxx, jxy, jyx, jyy] = distortJacobian(cam, x, y);
    det = jxx * jyy - jxy * jyx;
    x -= (jyy * rx - jxy * ry) / det;
    y -= (jxx * ry - jyx * rx) / det;
  }
  if (!(Math.abs(rx) + Math.abs(ry) <= UNDISTORT_FAIL) || !(det > 0)) return null;
  return [x, y];
}

/** Ideal normalised coordinates (X/Z, Y/Z) of a distorted pixel, or null (normalize_points). */
export function pixelToNormalized(cam, u, v) {
  const K = cam.K;
  const yd = (v - K[1][2]) / K[1][1];
  const xd = (u - K[0][2] - K[0][1] * yd) / K[0][0];
  return undistortNormalized(cam, xd, yd);
}

/** Camera-space coordinates of a world point. */
export function worldToCamera(cam, X) {
  const { R, t } = cam;
  return [0, 1, 2].map((i) => R[i][0] * X[0] + R[i][1] * X[1] + R[i][2] * X[2] + t[i]);
}

function normalizedToPixel(cam, x, y) {
  const K = cam.K;
  return [K[0][0] * x + K[0][1] * y + K[0][2], K[1][1] * y + K[1][2]];
}

/** Distorted pixel [u, v] of a world point (mm), or null when it is on or behind the camera plane. */
export function project(cam, X) {
  const [xc, yc, zc] = worldToCamera(cam, X);
  if (!(zc > 0)) return null;
  const [xd, yd] = distortNormalized(cam, xc / zc, yc / zc);
  return normalizedToPixel(cam, xd, yd);
}

/** World point at depth d (mm, along camera a's axis) on the ray of ideal normalised (x, y). */
export function rayPoint(cam, x, y, d) {
  const { R, t } = cam;
  const c = [d * x - t[0], d * y - t[1], d - t[2]];
  // X = R^T (d [x, y, 1] - t)
  return [0, 1, 2].map((j) => R[0][j] * c[0] + R[1][j] * c[1] + R[2][j] * c[2]);
}

/**
 * The epipolar curve in camera b of the distorted pixel [u, v] of camera a (epipolar_curve):
 * the distorted pixels of the ray's points at `depths`, keeping samples in front of b whose ideal
 * projection lies within b's image grown by EPIPOLAR_MARGIN, in depth order. Empty when the pixel
 * cannot be undistorted or the ray misses view b.
 */
export function epipolarCurve(camA, camB, pixel, depths = EPIPOLAR_DEPTHS) {
  const ray = pixelToNormalized(camA, pixel[0], pixel[1]);
  if (ray === null) return [];
  const [w, h] = camB.size;
  const K = camB.K;
  const out = [];
  for (const d of depths) {
    const [xc, yc, zc] = worldToCamera(camB, rayPoint(camA, ray[0], ray[1], d));
    if (!(zc > 0)) continue;
    const xn = xc / zc;
    const yn = yc / zc;
    const iu = K[0][0] * xn + K[0][1] * yn + K[0][2];
    const iv = K[1][1] * yn + K[1][2];
    if (!Number.isFinite(iu) || !Number.isFinite(iv)) continue;
    if (iu < -EPIPOLAR_MARGIN * w || iu > (1 + EPIPOLAR_MARGIN) * w) continue;
    if (iv < -EPIPOLAR_MARGIN * h || iv > (1 + EPIPOLAR_MARGIN) * h) continue;
    const [xd, yd] = distortNormalized(camB, xn, yn);
    out.push(normalizedToPixel(camB, xd, yd));
  }
  return out;
}

// --- the zoomed view -----------------------------------------------------------------------------
//
// A view's zoom is {k, cx, cy}: k magnifies the "contain" fit of the image into the viewport and
// (cx, cy) is the image point at the viewport's centre. It does not depend on the viewport's size,
// so a view keeps its framing when it is enlarged or the window resized.

/** Zoom limits, as multiples of the contain fit. */
export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 40;

/** The zoom showing the whole image. */
/**
 * Columns of a grid of `count` views (images of `aspect` = width / height) in a box of `width` x `height`
 * screen px that show each image largest; each cell loses `headPx` to its header and `gapPx` separates
 * cells. Ties go to fewer columns (four 1000 x 1000 views stay 2 x 2). Before layout (a zero box):
 * ceil(sqrt(count)).
 */
export function gridColumns(count, width, height, aspect, headPx = 0, gapPx = 0) {
  if (count <= 1) return 1;
  if (!(width > 0 && height > 0 && aspect > 0)) return Math.ceil(Math.sqrt(count));
  let best = 1;
  let bestSide = -Infinity;
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const w = (width - gapPx * (cols - 1)) / cols;
    const h = (height - gapPx * (rows - 1)) / rows - headPx;
    const side = Math.min(w / aspect, h); // the image height that fits a cell
    if (side > bestSide + 1e-9) {
      best = cols;
      bestSide = side;
    }
  }
  return best;
}

export function fitZoom(imageSize) {
  return { k: 1, cx: imageSize[0] / 2, cy: imageSize[1] / 2 };
}

/** Screen transform of a zoom: screen = s * image + [tx, ty], within a viewport [vw, vh]. */
export function viewTransform(zoom, imageSize, viewport) {
  const [vw, vh] = viewport;
  const fit = Math.min(vw / imageSize[0], vh / imageSize[1]);
  const s = fit * zoom.k;
  return { s, tx: vw / 2 - s * zoom.cx, ty: vh / 2 - s * zoom.cy };
}

/** Image pixel under the viewport point [px, py]. */
export function toImage(transform, px, py) {
  return [(px - transform.tx) / transform.s, (py - transform.ty) / transform.s];
}

/** Viewport point of the image pixel [x, y]. */
export function toViewport(transform, x, y) {
  return [transform.s * x + transform.tx, transform.s * y + transform.ty];
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** The zoom multiplied by `factor` keeping the image point under viewport point [px, py] fixed. */
export function zoomAround(zoom, imageSize, viewport, px, py, factor) {
  const before = viewTransform(zoom, imageSize, viewport);
  const [ix, iy] = toImage(before, px, py);
  const k = clamp(zoom.k * factor, MIN_ZOOM, MAX_ZOOM);
  const s = before.s * (k / zoom.k);
  // Keep (ix, iy) at (px, py): px = s ix + vw/2 - s cx.
  return { k, cx: ix + (viewport[0] / 2 - px) / s, cy: iy + (viewport[1] / 2 - py) / s };
}

/** The zoom moved by a drag of [dx, dy] viewport pixels. */
export function panBy(zoom, imageSize, viewport, dx, dy) {
  const { s } = viewTransform(zoom, imageSize, viewport);
  return { k: zoom.k, cx: zoom.cx - dx / s, cy: zoom.cy - dy / s };
}

/**
 * Bounding box [x0, y0, x1, y1] of the finite points among `points` (array of [x, y] | null) at
 * `indices` (all when omitted), or null when none is finite.
 */
export function bbox(points, indices) {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const ids = indices ?? points.keys();
  for (const i of ids) {
    const p = points[i];
    if (!p || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) continue;
    x0 = Math.min(x0, p[0]);
    y0 = Math.min(y0, p[1]);
    x1 = Math.max(x1, p[0]);
    y1 = Math.max(y1, p[1]);
  }
  return x0 === Infinity ? null : [x0, y0, x1, y1];
}

/**
 * The zoom framing `box` (image pixels) in a viewport [vw, vh], with `margin` (a fraction of the box's
 * size on each side; the framed area is at least `minSize` image pixels across so that a tiny hand
 * does not fill the screen with blur).
 */
export function zoomToBox(box, imageSize, viewport, margin = 0.15, minSize = 120) {
  const w = Math.max((box[2] - box[0]) * (1 + 2 * margin), minSize);
  const h = Math.max((box[3] - box[1]) * (1 + 2 * margin), minSize);
  const fit = Math.min(viewport[0] / imageSize[0], viewport[1] / imageSize[1]);
  const s = Math.min(viewport[0] / w, viewport[1] / h);
  return { k: clamp(s / fit, MIN_ZOOM, MAX_ZOOM), cx: (box[0] + box[2]) / 2, cy: (box[1] + box[3]) / 2 };
}

/**
 * Median distance from each point to its nearest neighbour among the finite `points` at `indices`
 * (image px), or null with fewer than two: how densely a part's keypoints lie. O(n^2), n <= ~70 here.
 */
export function medianSpacing(points, indices) {
  const pts = [];
  for (const i of indices ?? points.keys()) {
    const p = points[i];
    if (p && Number.isFinite(p[0]) && Number.isFinite(p[1])) pts.push(p);
  }
  if (pts.length < 2) return null;
  const nearest = pts.map((p, i) => {
    let best = Infinity;
    for (let j = 0; j < pts.length; j++) {
      if (j !== i) best = Math.min(best, Math.hypot(pts[j][0] - p[0], pts[j][1] - p[1]));
    }
    return best;
  });
  nearest.sort((a, b) => a - b);
  const mid = nearest.length >> 1;
  return nearest.length % 2 ? nearest[mid] : (nearest[mid - 1] + nearest[mid]) / 2;
}

/** Screen px between neighbouring keypoints that a part focus zooms to at least (dense parts: face, hands). */
export const FOCUS_SPACING_PX = 10;

/**
 * The zoom a part focus uses: the part's box framed in the viewport (zoomToBox), and at least so close
 * that its keypoints lie `minSpacing` screen px apart (median nearest-neighbour distance), so that the 68
 * face points are separate markers even where the face is small in the image (it may then overflow the
 * view); centred on the box, or on `centre` ([x, y] image px) when given. Null when the part has no point.
 */
export function focusZoom(points, indices, imageSize, viewport, { minSpacing = FOCUS_SPACING_PX, centre = null } = {}) {
  const box = bbox(points, indices);
  if (!box) return null;
  const framed = zoomToBox(box, imageSize, viewport);
  const spacing = medianSpacing(points, indices);
  const fit = Math.min(viewport[0] / imageSize[0], viewport[1] / imageSize[1]);
  const k = spacing ? Math.max(framed.k, minSpacing / (spacing * fit)) : framed.k;
  const at = centre ?? [framed.cx, framed.cy];
  return { k: clamp(k, MIN_ZOOM, MAX_ZOOM), cx: at[0], cy: at[1] };
}

/**
 * Index of the point nearest to [x, y] within `radius` (same units), among `indices` (all when
 * omitted), or -1.
 */
export function nearestPoint(points, x, y, radius, indices) {
  let best = -1;
  let bestD2 = radius * radius;
  const ids = indices ?? points.keys();
  for (const i of ids) {
    const p = points[i];
    if (!p) continue;
    const d2 = (p[0] - x) ** 2 + (p[1] - y) ** 2;
    if (d2 <= bestD2) {
      best = i;
      bestD2 = d2;
    }
  }
  return best;
}

/** Euclidean distance of two points, or null when either is missing. */
export function distance(a, b) {
  if (!a || !b) return null;
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
