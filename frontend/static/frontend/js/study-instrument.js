// The instrument part of a study's report page: what the study shows and cannot, the assumptions it ran under
// (who corrected it; a simulated annotator's model and parameters), the sensitivity table (measured/true per
// part over annotator thresholds x placement spreads, fetched apart: it replays the study 25 times), the design's
// bias per part and the annotators' calibration with its warnings. Renders report data; computes nothing.

import * as api from "./api.js";
import { escape, num, pct } from "./format.js";
import { partLabel, partOptions } from "./study-parts.js";

/** A cell's shade: white at measured/true 1, redder the further off (log scale, saturating at x3 or /3). */
function shade(ratio) {
  if (ratio === null || ratio === undefined || ratio <= 0) return "";
  const off = Math.min(Math.abs(Math.log(ratio)) / Math.log(3), 1);
  return `background: rgba(179, 38, 30, ${(0.05 + 0.45 * off).toFixed(2)})`;
}

function renderLimits(root, ins) {
  root.querySelector("#instrument-limits .limits").textContent = ins.limits;
}

function describeParams(params) {
  return Object.entries(params).map(([k, v]) => `${k.replace(/_/g, " ")} ${escape(v)}`).join(", ");
}

function renderAssumptions(root, ins) {
  const a = ins.assumptions;
  const box = root.querySelector("#instrument-assumptions");
  if (!a.simulated) {
    box.querySelector(".assumptions-body").innerHTML =
      `<p>Corrected by people: no simulated annotator ran on this study. Its figures stand for these annotators; ` +
      `the calibration below (honeypots, gold frames) says how far they can be trusted.</p>`;
    return;
  }
  const rows = a.runs
    .map((r) => {
      const c = r.counts;
      return `<tr data-run="${r.id}"><td>${escape(r.label)}</td><td>${describeParams(r.params)}</td><td class="num">${r.seed}</td>` +
        `<td class="num">${c.tasks_done ?? 0}</td><td class="num">${c.moved ?? 0}</td><td class="num">${c.unseen_hidden ?? 0}</td>` +
        `<td class="num">${c.unseen_other ?? 0}</td><td class="num">${c.occluded_flagged ?? 0}</td></tr>`;
    })
    .join("");
  const m = a.models.perceiving;
  box.querySelector(".assumptions-body").innerHTML =
    `<table class="grid"><thead><tr><th>Annotator model</th><th>Parameters</th><th class="num">Seed</th><th class="num">Tasks</th>` +
    `<th class="num">Drags</th><th class="num">Hidden, left</th><th class="num">Otherwise unseen</th><th class="num">Flagged occluded</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>` +
    `<p class="muted">Perceiving annotator: sees ${escape(m.sees)}; places at the ${escape(m.placement)} (${escape(m.sigma_reference)}); ` +
    `drags ${escape(m.drags)}. Ground-truth visibility known for ${a.views_with_visibility} of ${a.views} views ` +
    `(unknown counts as seen).</p>`;
}

function renderBias(root, ins, layout) {
  const b = ins.bias;
  const box = root.querySelector("#instrument-bias");
  box.querySelector(".bias-note").textContent = b.note;
  box.querySelector("thead").innerHTML =
    `<tr><th>Part</th><th class="num">corrected keypoints</th><th class="num">corrected in one view only</th>` +
    `<th class="num">measured / true</th></tr>`;
  box.querySelector("tbody").innerHTML = Object.entries(b.parts)
    .map(([p, r]) => {
      const ratio = r.measured_over_true;
      return `<tr data-part="${p}"><th>${partLabel(layout, p)}</th><td class="num">${r.n_corrected.toLocaleString()}</td>` +
        `<td class="num">${pct(r.single_view_share)}</td><td class="num" style="${shade(ratio)}">${num(ratio, 3)}</td></tr>`;
    })
    .join("");
}

function renderCalibration(root, ins, layout) {
  const c = ins.calibration;
  const box = root.querySelector("#instrument-calibration");
  if (!c) {
    box.querySelector(".calibration-note").textContent =
      "Nothing to score: no honeypot has a known answer (ground truth, or a gold frame a reviewer accepted in " +
      "an earlier study) and no task has ground truth. Add honeypots to the next study.";
    box.querySelector("table").hidden = true;
    return;
  }
  box.querySelector(".calibration-note").textContent =
    `Scored on ${c.basis} (${c.n_tasks} tasks). Sigma: the annotator's drops against the reference, as COCO defines ` +
    `it (RMS distance / object scale); a ratio outside ${num(c.plausible_ratio[0])}–${num(c.plausible_ratio[1], 0)} ` +
    `of ${escape(layout.name)}'s (over at least ${c.min_drops} drops) is implausible for a person.`;
  box.querySelector("thead").innerHTML =
    `<tr><th>Annotator</th><th>Reference</th><th>Part</th><th class="num">3D error mm</th><th class="num">drops</th>` +
    `<th class="num">sigma</th><th class="num">${escape(layout.name)} sigma</th><th class="num">ratio</th></tr>`;
  const flagged = new Set(c.warnings.map((w) => `${w.annotator}/${w.part}`));
  box.querySelector("tbody").innerHTML = c.annotators
    .flatMap((a) =>
      Object.entries(a.parts).map(([p, v]) => {
        const warn = flagged.has(`${a.annotator}/${p}`);
        return `<tr data-annotator="${escape(a.annotator)}" data-part="${p}"><td>${escape(a.annotator)}</td>` +
          `<td>${a.references.map(escape).join(", ")}</td><td>${partLabel(layout, p)}</td><td class="num">${num(v.error_3d_mm)}</td>` +
          `<td class="num">${v.n_drops}</td><td class="num">${num(v.sigma, 4)}</td><td class="num">${num(v.published_sigma, 4)}</td>` +
          `<td class="num${warn ? " off" : ""}">${num(v.sigma_ratio)}</td></tr>`;
      }),
    )
    .join("");
  box.querySelector(".warnings").innerHTML = c.warnings.map((w) => `<li>${escape(w.message)}</li>`).join("");
}

/** The sensitivity table of one part, the study's own cell (when it lies on the grid) outlined. */
function drawSensitivity(box, table, part) {
  const at = table.at_study;
  const head = `<tr><th>threshold px \\ spread</th>${table.noise_scales.map((n) => `<th class="num">×${n}</th>`).join("")}</tr>`;
  const rows = table.thresholds_px
    .map((t, i) => {
      const cells = table.noise_scales
        .map((n, j) => {
          const v = table.parts[part][i][j];
          const own = at && at.threshold_px === t && at.noise_scale === n;
          return `<td class="num${own ? " own" : ""}" style="${shade(v)}" data-threshold="${t}" data-spread="${n}">${num(v, 3)}</td>`;
        })
        .join("");
      return `<tr><th>${t} px</th>${cells}</tr>`;
    })
    .join("");
  box.querySelector("table thead").innerHTML = head;
  box.querySelector("table tbody").innerHTML = rows;
}

async function loadSensitivity(root, url, layout) {
  const box = root.querySelector("#instrument-sensitivity");
  const note = box.querySelector(".sensitivity-note");
  note.textContent = "replaying the study under other annotators…";
  let table;
  try {
    table = (await api.get(url)).sensitivity;
  } catch (error) {
    note.textContent = error.message ?? String(error);
    return;
  }
  if (!table) {
    note.textContent = "No task of this study has ground truth: there is no true error to compare with.";
    box.dataset.ready = "1";
    return;
  }
  const select = box.querySelector("select[name=part]");
  select.innerHTML = partOptions(layout);
  select.addEventListener("change", () => drawSensitivity(box, table, select.value));
  drawSensitivity(box, table, select.value);
  const at = table.at_study;
  note.textContent =
    `Measured / true 3D error, replayed in memory from the study's ${table.n_tasks} tasks with ground truth (seed ${table.seed}): ` +
    `the perceiving annotator with the threshold of each row and the spread of each column (× ${escape(layout.name)}'s sigmas). ` +
    `1 is an instrument that measures the dataset's true error; the further from 1, the more of the figure is the ` +
    `assumed annotator.` + (at ? ` Outlined: this study's own annotator (threshold ${at.threshold_px} px, spread ×${at.noise_scale}).` : "");
  box.dataset.ready = "1";
}

/** Render the instrument sections from the report, then fetch the sensitivity table. */
export function renderInstrument(root, report, sensitivityUrl) {
  const ins = report.instrument;
  renderLimits(root, ins);
  renderAssumptions(root, ins);
  renderBias(root, ins, report.layout);
  renderCalibration(root, ins, report.layout);
  return loadSensitivity(root, sensitivityUrl, report.layout);
}
