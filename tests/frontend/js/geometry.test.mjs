// geometry.js against annotator/geometry.py (fixture: geometry.json, written by make_fixtures.py).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import {
  bbox, distortNormalized, epipolarCurve, fitZoom, gridColumns, nearestPoint, panBy, pixelToNormalized, project,
  rayPoint, toImage, toViewport, undistortNormalized, viewTransform, zoomAround, zoomToBox, EPIPOLAR_DEPTHS,
} from "../../../frontend/static/frontend/js/geometry.js";

const fixture = JSON.parse(readFileSync(new URL("./geometry.json", import.meta.url)));
const MODELS = Object.keys(fixture.models);
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) < tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe("project", () => {
  it("covers both lens models", () => assert.deepEqual(MODELS.sort(), ["h36m", "opencv"]));
  for (const model of MODELS) {
    it(`matches annotator.geometry.project to 1e-6 px (${model})`, () => {
      const { cameras, projections } = fixture.models[model];
      cameras.forEach((cam, c) => {
        fixture.points.forEach((X, i) => {
          const expected = projections[c][i];
          const got = project(cam, X);
          if (expected === null) return assert.equal(got, null);
          close(got[0], expected[0], 1e-6, `${model} cam ${c} point ${i} u`);
          close(got[1], expected[1], 1e-6, `${model} cam ${c} point ${i} v`);
        });
      });
    });
  }
  it("gives null behind the camera", () => {
    const cam = fixture.models.h36m.cameras[0];
    assert.equal(project(cam, rayPoint(cam, 0.1, 0.1, -1000)), null);
  });
});

describe("undistort", () => {
  for (const model of MODELS) {
    it(`matches annotator.geometry.normalize_points (${model})`, () => {
      const { cameras, projections, normalized } = fixture.models[model];
      cameras.forEach((cam, c) => {
        projections[c].forEach((px, i) => {
          if (px === null) return;
          const got = pixelToNormalized(cam, px[0], px[1]);
          close(got[0], normalized[c][i][0], 1e-9, `${model} cam ${c} point ${i} x`);
          close(got[1], normalized[c][i][1], 1e-9, `${model} cam ${c} point ${i} y`);
        });
      });
    });
    it(`inverts distort to 1e-6 px over the whole image (${model})`, () => {
      for (const cam of fixture.models[model].cameras) {
        const [w, h] = cam.size;
        const f = cam.K[0][0];
        for (let u = 0; u <= w; u += w / 10) {
          for (let v = 0; v <= h; v += h / 10) {
            const yd = (v - cam.K[1][2]) / cam.K[1][1];
            const xd = (u - cam.K[0][2]) / cam.K[0][0];
            const [x, y] = undistortNormalized(cam, xd, yd);
            const [xd2, yd2] = distortNormalized(cam, x, y);
            close(xd2 * f, xd * f, 1e-6, `${model} (${u}, ${v}) x`);
            close(yd2 * f, yd * f, 1e-6, `${model} (${u}, ${v}) y`);
          }
        }
      }
    });
  }
  it("is the identity without distortion", () => {
    const cam = { ...fixture.models.opencv.cameras[0], dist: [0, 0, 0, 0, 0] };
    assert.deepEqual(undistortNormalized(cam, 0.3, -0.2), [0.3, -0.2]);
  });
  it("gives null where the lens model has no inverse, as Python gives NaN", () => {
    const cam = { ...fixture.models.opencv.cameras[0], dist: [-0.5, 0, 0, 0, 0] };
    for (const xd of [0.7, 1, 2, 5]) assert.equal(undistortNormalized(cam, xd, 0), null, `xd ${xd}`);
    // Converged onto the mirror root past the fold, with a positive Jacobian: Python keeps it too.
    close(undistortNormalized(cam, 5, 5)[0], -1.90416086, 1e-8, "mirror root");
  });
});

describe("epipolarCurve", () => {
  it("samples 64 depths from 1 to 10 m", () => {
    assert.equal(EPIPOLAR_DEPTHS.length, 64);
    close(EPIPOLAR_DEPTHS[0], 1000, 1e-9, "first");
    close(EPIPOLAR_DEPTHS[63], 10000, 1e-9, "last");
    fixture.depths.forEach((d, i) => close(EPIPOLAR_DEPTHS[i], d, 1e-6, `depth ${i}`));
  });
  for (const model of MODELS) {
    it(`matches annotator.geometry.epipolar_curve (${model})`, () => {
      const { cameras, epipolar } = fixture.models[model];
      for (const e of epipolar) {
        const got = epipolarCurve(cameras[e.a], cameras[e.b], e.pixel);
        assert.equal(got.length, e.curve.length, `${model} ${e.a}->${e.b} samples`);
        got.forEach((p, i) => {
          close(p[0], e.curve[i][0], 1e-6, `${model} ${e.a}->${e.b} sample ${i} u`);
          close(p[1], e.curve[i][1], 1e-6, `${model} ${e.a}->${e.b} sample ${i} v`);
        });
      }
    });
    it(`passes within 0.5 px of the true projection of a point on the ray (${model})`, () => {
      const { cameras, projections } = fixture.models[model];
      for (const [a, b] of [[0, 1], [1, 3], [2, 0]]) {
        fixture.points.forEach((X, i) => {
          const pa = projections[a][i];
          const pb = projections[b][i];
          if (!pa || !pb) return;
          const curve = epipolarCurve(cameras[a], cameras[b], pa);
          // Distance from pb to the polyline.
          let best = Infinity;
          for (let s = 1; s < curve.length; s++) {
            const [x0, y0] = curve[s - 1];
            const [x1, y1] = curve[s];
            const dx = x1 - x0;
            const dy = y1 - y0;
            const t = Math.max(0, Math.min(1, ((pb[0] - x0) * dx + (pb[1] - y0) * dy) / (dx * dx + dy * dy || 1)));
            best = Math.min(best, Math.hypot(x0 + t * dx - pb[0], y0 + t * dy - pb[1]));
          }
          assert.ok(best < 0.5, `${model} ${a}->${b} point ${i}: ${best} px from the curve`);
        });
      }
    });
  }
  it("is empty when the pixel cannot be undistorted", () => {
    const cam = { ...fixture.models.opencv.cameras[0], dist: [-0.5, 0, 0, 0, 0] };
    const u = cam.K[0][2] + 2 * cam.K[0][0]; // normalised x = 2: beyond the fold
    assert.deepEqual(epipolarCurve(cam, fixture.models.opencv.cameras[1], [u, cam.K[1][2]]), []);
  });
});

describe("view transform", () => {
  const size = [1000, 1002];
  const viewport = [600, 400];
  it("fits the whole image, centred", () => {
    const t = viewTransform(fitZoom(size), size, viewport);
    close(t.s, 400 / 1002, 1e-12, "scale");
    const [cx, cy] = toViewport(t, 500, 501);
    close(cx, 300, 1e-9, "cx");
    close(cy, 200, 1e-9, "cy");
  });
  it("round-trips image <-> viewport", () => {
    const t = viewTransform({ k: 3.2, cx: 410, cy: 290 }, size, viewport);
    const [x, y] = toImage(t, ...toViewport(t, 123.4, 567.8));
    close(x, 123.4, 1e-9, "x");
    close(y, 567.8, 1e-9, "y");
  });
  it("zooms around the cursor", () => {
    const zoom = fitZoom(size);
    const before = toImage(viewTransform(zoom, size, viewport), 150, 90);
    const zoomed = zoomAround(zoom, size, viewport, 150, 90, 2.5);
    close(zoomed.k, 2.5, 1e-12, "k");
    const after = toImage(viewTransform(zoomed, size, viewport), 150, 90);
    close(after[0], before[0], 1e-9, "x");
    close(after[1], before[1], 1e-9, "y");
  });
  it("pans by the drag", () => {
    const zoom = { k: 2, cx: 500, cy: 500 };
    const t0 = viewTransform(zoom, size, viewport);
    const t1 = viewTransform(panBy(zoom, size, viewport, 30, -12), size, viewport);
    close(t1.tx - t0.tx, 30, 1e-9, "tx");
    close(t1.ty - t0.ty, -12, 1e-9, "ty");
  });
  it("frames a box with margin", () => {
    const box = [400, 300, 500, 350];
    const zoom = zoomToBox(box, size, viewport, 0.1, 10);
    const t = viewTransform(zoom, size, viewport);
    const [x0, y0] = toViewport(t, box[0], box[1]);
    const [x1, y1] = toViewport(t, box[2], box[3]);
    assert.ok(x0 >= 0 && y0 >= 0 && x1 <= viewport[0] && y1 <= viewport[1], "box inside the viewport");
    close((x1 - x0) * 1.2, viewport[0], 1e-6, "box width + margins fills the viewport");
  });
});

describe("zoomToBox", () => {
  it("does not magnify a tiny part beyond its minimum framed size", () => {
    const size = [1000, 1000];
    const viewport = [500, 500];
    const zoom = zoomToBox([500, 500, 510, 505], size, viewport, 0.1, 100);
    const t = viewTransform(zoom, size, viewport);
    close(t.s, 5, 1e-9, "100 image px fill the 500 px viewport");
  });
});

describe("bbox and hit testing", () => {
  const points = [[10, 10], null, [30, 5], [20, 40]];
  it("bounds the finite points of a subset", () => {
    assert.deepEqual(bbox(points), [10, 5, 30, 40]);
    assert.deepEqual(bbox(points, [0, 2]), [10, 5, 30, 10]);
    assert.equal(bbox(points, [1]), null);
  });
  it("finds the nearest point within the radius", () => {
    assert.equal(nearestPoint(points, 29, 6, 3), 2);
    assert.equal(nearestPoint(points, 50, 50, 3), -1);
    assert.equal(nearestPoint(points, 29, 6, 3, [0, 3]), -1);
  });
});

describe("gridColumns", () => {
  // The editor's views area at 1600 x 1000 and 1280 x 720 (window minus toolbar and panel), 30 px view heads.
  const WIDE = [1292, 880];
  const SMALL = [972, 600];
  it("keeps four square Human3.6M views in 2 x 2 on both screens", () => {
    for (const [w, h] of [WIDE, SMALL]) assert.equal(gridColumns(4, w, h, 1000 / 1002, 30, 4), 2);
  });
  it("lays six 4:3 views out 3 x 2, and two side by side", () => {
    assert.equal(gridColumns(6, ...WIDE, 4 / 3, 30, 4), 3);
    assert.equal(gridColumns(2, ...WIDE, 4 / 3, 30, 4), 2);
  });
  it("gives sixteen views the columns that show each image largest", () => {
    const cols = gridColumns(16, ...WIDE, 4 / 3, 30, 4);
    const side = (c) => Math.min((WIDE[0] - 4 * (c - 1)) / c / (4 / 3), (WIDE[1] - 4 * (Math.ceil(16 / c) - 1)) / Math.ceil(16 / c) - 30);
    for (let c = 1; c <= 16; c++) assert.ok(side(cols) >= side(c) - 1e-9, `${cols} columns beat ${c}`);
  });
  it("is defined before layout and for one view", () => {
    assert.equal(gridColumns(6, 0, 0, 4 / 3), 3);
    assert.equal(gridColumns(1, 500, 500, 1), 1);
  });
});
