// The reviewer dashboard: the list of cross-check studies with the form that creates one (page
// "studies"), and one study's report (page "study"): the per-part table in H3WB's layout, 3D error
// histograms, per-keypoint / camera / annotator bar charts (Chart.js, vendored under vendor/chartjs)
// and the frames table. Every number leads to the frames behind it: a click on a table cell or a bar
// sets the frames table's filters, and every frame opens in the review mode (/review/tasks/<id>/).

import * as api from "./api.js";
import { escape, num, pct } from "./format.js";
import { Listeners, mountPage } from "./lifecycle.js";
import { renderInstrument } from "./study-instrument.js";
import {
  histogramColors,
  keypointColors,
  partCaption,
  partColor,
  partLabel,
  partNames,
  partOptions,
} from "./study-parts.js";

const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const root = document.getElementById("dashboard");

// Parts, their labels and colours come from the layout data the report carries (study-parts.js).

const listeners = new Listeners();

function showError(el, error) {
  el.hidden = false;
  el.textContent = error.message ?? String(error);
}

// --- page "studies": the list and the form ------------------------------------------------------

async function loadStudies() {
  const rows = await api.get(config.studies_url);
  const body = root.querySelector("#study-list tbody");
  body.innerHTML = rows
    .map(
      (s) =>
        `<tr data-study="${s.id}"><td><a href="${s.url}">${escape(s.name)}</a></td><td>${escape(s.dataset)}</td>` +
        `<td>${escape(s.mode)}</td><td class="num">${s.n_items}${s.n_honeypots ? ` + ${s.n_honeypots} hp` : ""}</td>` +
        `<td class="num">${s.per_item}</td><td>${s.annotators.map(escape).join(", ")}</td>` +
        `<td class="num">${s.n_finished} / ${s.n_tasks}</td><td class="num">${s.n_accepted}</td>` +
        `<td>${new Date(s.created_at).toLocaleString()}</td></tr>`,
    )
    .join("");
  root.querySelector("#no-studies").hidden = rows.length > 0;
}

function studyForm() {
  return root.querySelector("#study-form");
}

function showModeNote() {
  const form = studyForm();
  form.querySelector(".mode-note").textContent = config.options.modes.find((m) => m.value === form.elements.mode.value)?.note ?? "";
}

/** The chosen dataset's subjects and size. */
function showDataset() {
  const form = studyForm();
  const ds = config.options.datasets.find((d) => d.name === form.elements.dataset.value);
  form.querySelector(".subjects .choices").innerHTML = (ds?.subjects ?? [])
    .map((s) => `<label class="choice"><input type="checkbox" name="subjects" value="${escape(s)}"> ${escape(s)}</label>`)
    .join("");
  const cap = form.elements.mode.value === "frame" ? `${ds?.n_frames ?? 0} frames` : `${ds?.n_views ?? 0} images`;
  form.querySelector(".capacity").textContent = ds ? `the dataset has ${cap}` : "";
}

async function createStudy(event) {
  event.preventDefault();
  const form = studyForm();
  const message = form.querySelector("#form-message");
  const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
  const body = {
    name: form.elements.name.value.trim(),
    dataset: form.elements.dataset.value,
    subjects: checked("subjects"),
    mode: form.elements.mode.value,
    n_items: Number(form.elements.n_items.value),
    seed: Number(form.elements.seed.value || 0),
    annotators: checked("annotators"),
    per_item: Number(form.elements.per_item.value || 1),
    n_honeypots: Number(form.elements.n_honeypots.value || 0),
  };
  message.className = "";
  message.textContent = "creating…";
  try {
    const study = await api.post(config.studies_url, body);
    window.location.href = study.url;
  } catch (error) {
    message.className = "error";
    message.textContent = error.message;
  }
}

function setupForm() {
  const form = studyForm();
  const { datasets, annotators, modes } = config.options;
  form.elements.dataset.innerHTML = datasets.map((d) => `<option value="${escape(d.name)}">${escape(d.name)}</option>`).join("");
  form.elements.mode.innerHTML = modes.map((m) => `<option value="${m.value}">${escape(m.label)}</option>`).join("");
  showModeNote();
  form.querySelector(".annotators .choices").innerHTML = annotators.length
    ? annotators.map((u) => `<label class="choice"><input type="checkbox" name="annotators" value="${escape(u)}"> ${escape(u)}</label>`).join("")
    : `<span class="muted">no annotator accounts yet</span>`;
  showDataset();
}

// --- page "study": the report ---------------------------------------------------------------------

const filters = { sort: "worst", part: "all", camera: "", annotator: "", keypoint: null };
const charts = [];
let report = null;

function chart(canvasId, spec) {
  const canvas = root.querySelector(`#${canvasId}`);
  const instance = new window.Chart(canvas, spec);
  charts.push(instance);
  return instance;
}

const BASE_OPTIONS = {
  animation: false,
  maintainAspectRatio: false,
  plugins: { legend: { display: false } },
};

function renderSummary() {
  const s = report.study;
  root.querySelector(".study-name").textContent = s.name;
  root.querySelector(".study-title").textContent = `Study ${s.name}`;
  document.title = `${s.name} · Review`;
  const by = s.tasks_by_status;
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  const done = by.submitted + by.accepted;
  root.querySelector(".progress").innerHTML =
    `<span class="pill ok">${by.accepted} accepted</span><span class="pill">${by.submitted} to review</span>` +
    `<span class="pill warn">${by.rejected} rejected</span><span class="pill muted">${by.todo + by.in_progress} open</span>` +
    `<span class="bar-wrap" title="${done} of ${total} finished"><span class="bar-fill" style="width:${total ? (100 * done) / total : 0}%"></span></span>`;
  root.querySelector(".study-meta").textContent =
    `${s.dataset} · subjects ${s.subjects.join(", ")} · ${s.mode} mode · ${s.n_items} items` +
    `${s.n_honeypots ? ` + ${s.n_honeypots} honeypots` : ""} · seed ${s.seed} · ${s.per_item} annotator(s) per item ` +
    `(${s.annotators.join(", ")}) · report over ${report.n_tasks} finished tasks, ${report.n_views} views`;
}

function cell(value, digits, part, extra = "") {
  return `<td class="num"><a href="#frames" data-part="${part}" class="to-frames"${extra}>${num(value, digits)}</a></td>`;
}

function renderPartsTable() {
  const gt = report.ground_truth;
  const head =
    `<tr><th>Part</th><th class="num">mean 2D px</th><th class="num">mean 3D mm</th><th class="num">median 3D mm</th>` +
    `<th class="num">p90 3D mm</th><th class="num">keypoints</th><th class="num">corrected</th>` +
    `<th class="num">in 10–20 mm</th><th class="num published">H3WB 2D px / 3D mm</th>` +
    (gt ? `<th class="num truth">true 3D mm</th><th class="num truth">measured / true</th><th class="num truth">residual mm</th>` : "") +
    `</tr>`;
  const layout = report.layout;
  const rows = partNames(layout).map((part) => {
    const r = report.parts[part];
    // H3WB's published cross-check is of COCO-WholeBody: another layout has no published row to compare with.
    const p = report.published[part] ?? {};
    let html =
      `<tr data-part="${part}"><th><i class="dot" style="background:${partColor(layout, part)}"></i>${partLabel(layout, part)}</th>` +
      cell(r.mean_2d_px, 2, part) + cell(r.mean_3d_mm, 2, part) + cell(r.median_3d_mm, 2, part) + cell(r.p90_3d_mm, 2, part) +
      `<td class="num">${r.n_keypoints.toLocaleString()}</td><td class="num">${pct(r.fraction_corrected)}</td>` +
      `<td class="num">${pct(r.fraction_in_band)}</td><td class="num published">${num(p.mean_2d_px)} / ${num(p.mean_3d_mm)}</td>`;
    if (gt) {
      const g = gt[part];
      const ratio = g.measured_over_true;
      const off = ratio !== null && Math.abs(ratio - 1) > 0.15;
      html +=
        `<td class="num truth">${num(g.mean_3d_mm)}</td><td class="num truth${off ? " off" : ""}">${num(ratio, 3)}</td>` +
        `<td class="num truth">${num(g.residual_3d_mm)}</td>`;
    }
    return `${html}</tr>`;
  });
  const table = root.querySelector("#parts-table");
  root.querySelector(".published-note")?.remove();
  if (report.published_note) table.insertAdjacentHTML("afterend", `<p class="muted published-note">${escape(report.published_note)}</p>`);
  table.querySelector("thead").innerHTML = head;
  table.querySelector("tbody").innerHTML = rows.join("");
  const note = root.querySelector(".gt-note");
  if (gt) {
    note.hidden = false;
    note.textContent =
      `Ground truth is known for ${gt.n_tasks} of ${report.n_tasks} tasks: "true" is the dataset skeleton's real error there, ` +
      `"measured / true" checks the instrument itself (1 = the cross-check measures the truth), "residual" is what the ` +
      `corrections left.`;
  }
}

function renderHistograms() {
  const h = report.histograms;
  const edges = h.bin_edges_mm;
  const labels = edges.slice(0, -1).map((e, i) => `${e}–${edges[i + 1]}`).concat([`≥${edges[edges.length - 1]}`]);
  const [lo, hi] = h.band_mm;
  root.querySelector(".band-note").textContent =
    `${edges[1] - edges[0]} mm bins · the ${lo}–${hi} mm band where H3WB reports its errors concentrate is darker · click: frames of that part`;
  const parts = partNames(report.layout);
  // The page has a histogram for each part a layout may have; those this study's layout lacks are hidden.
  for (const canvas of root.querySelectorAll("canvas[id^=hist-]")) {
    const figure = canvas.closest("figure");
    const part = canvas.id.slice("hist-".length);
    figure.hidden = !parts.includes(part);
    if (!figure.hidden) figure.querySelector("figcaption").textContent = partCaption(report.layout, part);
  }
  for (const part of parts) {
    const canvas = root.querySelector(`#hist-${part}`);
    if (!canvas) continue;
    const data = h.counts[part].concat([h.overflow[part]]);
    const colors = histogramColors(report.layout, part, edges, [lo, hi]);
    chart(`hist-${part}`, {
      type: "bar",
      data: { labels, datasets: [{ data, backgroundColor: colors, borderWidth: 0, barPercentage: 1, categoryPercentage: 0.92 }] },
      options: {
        ...BASE_OPTIONS,
        scales: {
          x: { title: { display: true, text: "3D error, mm" }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 9 } },
          y: { title: { display: true, text: "keypoints" }, beginAtZero: true },
        },
        onClick: () => setFilters({ part, keypoint: null }),
      },
    });
  }
}

function renderKeypointChart() {
  const k = report.keypoints;
  chart("chart-keypoints", {
    type: "bar",
    data: {
      labels: k.names,
      datasets: [{ data: k.mean_3d_mm, backgroundColor: keypointColors(report.layout, k.part_of), borderWidth: 0 }],
    },
    options: {
      ...BASE_OPTIONS,
      scales: {
        x: { ticks: { autoSkip: true, maxRotation: 60, minRotation: 60, font: { size: 9 } } },
        y: { title: { display: true, text: "mean 3D error, mm" }, beginAtZero: true },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (ctx) =>
              `${num(ctx.raw)} mm · 2D ${num(k.mean_2d_px[ctx.dataIndex])} px · corrected ${pct(k.fraction_corrected[ctx.dataIndex])}`,
          },
        },
      },
      onClick: (_, elements) => {
        if (elements.length) setFilters({ keypoint: elements[0].index, sort: "worst" });
      },
    },
  });
}

function renderGroupChart(canvasId, rows, labelKey, filterKey) {
  chart(canvasId, {
    type: "bar",
    data: {
      labels: rows.map((r) => r[labelKey]),
      datasets: [
        { label: "mean 3D mm", data: rows.map((r) => r.mean_3d_mm), backgroundColor: "#2f6fde", yAxisID: "y" },
        { label: "mean 2D px", data: rows.map((r) => r.mean_2d_px), backgroundColor: "#f0a030", yAxisID: "y2" },
      ],
    },
    options: {
      ...BASE_OPTIONS,
      plugins: { legend: { display: true, position: "bottom" } },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: "3D mm" } },
        y2: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "2D px" } },
      },
      onClick: (_, elements) => {
        if (elements.length) setFilters({ [filterKey]: rows[elements[0].index][labelKey] });
      },
    },
  });
}

function renderAgreement() {
  const ag = report.agreement;
  if (!ag) return;
  const section = root.querySelector("#agreement");
  section.hidden = false;
  section.querySelector(".agreement-note").textContent =
    `${ag.n_items} items with more than one annotator · derived sigma = RMS distance to the annotators' mean / object scale (${ag.scale})`;
  section.querySelector("thead").innerHTML =
    `<tr><th>Part</th><th class="num">spread 2D px</th><th class="num">spread 3D mm</th><th class="num">derived sigma</th><th class="num">published sigma (${escape(report.layout.name)})</th></tr>`;
  section.querySelector("tbody").innerHTML = Object.entries(ag.parts)
    .map(([p, v]) => `<tr><th>${partLabel(report.layout, p)}</th><td class="num">${num(v.spread_2d_px)}</td><td class="num">${num(v.spread_3d_mm)}</td>` +
      `<td class="num">${num(v.derived_sigma, 4)}</td><td class="num">${num(v.published_sigma, 4)}</td></tr>`)
    .join("");
  chart("chart-sigmas", {
    type: "bar",
    data: {
      labels: report.keypoints.names,
      datasets: [
        { label: "derived", data: ag.derived_sigmas, backgroundColor: "#2f6fde" },
        { label: "published", data: ag.published_sigmas, backgroundColor: "#c0c6d4" },
      ],
    },
    options: { ...BASE_OPTIONS, plugins: { legend: { display: true, position: "bottom" } },
      scales: { x: { ticks: { font: { size: 9 } } }, y: { beginAtZero: true, title: { display: true, text: "sigma" } } } },
  });
}

// --- the frames table -----------------------------------------------------------------------------

function setupFilters() {
  const form = root.querySelector("#frame-filters");
  form.elements.part.innerHTML = partOptions(report.layout);
  // The frames table has one column per metric part of the layout.
  const head = root.querySelector("#frames-table thead tr");
  head.querySelectorAll("th.part-col").forEach((th) => th.remove());
  const before = head.querySelector("th.sort-col").nextElementSibling;
  for (const part of partNames(report.layout)) {
    before.insertAdjacentHTML("beforebegin", `<th class="num part-col">${partLabel(report.layout, part)}</th>`);
  }
  form.elements.camera.innerHTML += report.cameras.map((c) => `<option>${escape(c.camera)}</option>`).join("");
  form.elements.annotator.innerHTML += report.annotators.map((a) => `<option>${escape(a.annotator)}</option>`).join("");
}

function onFiltersChange() {
  const form = root.querySelector("#frame-filters");
  setFilters({ sort: form.elements.sort.value, part: form.elements.part.value, camera: form.elements.camera.value,
    annotator: form.elements.annotator.value });
}

function onPartsTableClick(event) {
  const link = event.target.closest("a.to-frames");
  if (!link) return;
  event.preventDefault();
  setFilters({ part: link.dataset.part, keypoint: null });
}

function setFilters(change) {
  // The filters act on the report's frames: before it is in there is nothing to filter.
  if (!report) return;
  Object.assign(filters, change);
  const form = root.querySelector("#frame-filters");
  for (const key of ["sort", "part", "camera", "annotator"]) form.elements[key].value = filters[key];
  const chip = form.querySelector(".keypoint-chip");
  chip.hidden = filters.keypoint === null;
  chip.textContent = filters.keypoint === null ? "" : `keypoint ${report.keypoints.names[filters.keypoint]} ✕`;
  const reveal = change && Object.keys(change).some((k) => k !== "sort");
  // Scroll once the rows are in: the table's height (and so where the page can scroll to) depends on them.
  loadFrames().then(() => {
    if (reveal) showFrames();
  });
}

/** Bring the frames table into view (it lies far below the charts) and flash it, so a click shows its effect. */
function showFrames() {
  const section = root.querySelector("#frames");
  section.scrollIntoView({ block: "start" });
  section.classList.remove("flash");
  void section.offsetWidth; // restart the animation
  section.classList.add("flash");
}

async function loadFrames() {
  const params = new URLSearchParams({ sort: filters.sort, part: filters.part, limit: "200" });
  if (filters.camera) params.set("camera", filters.camera);
  if (filters.annotator) params.set("annotator", filters.annotator);
  if (filters.keypoint !== null) params.set("keypoint", String(filters.keypoint));
  const table = root.querySelector("#frames-table");
  table.dataset.loading = "1";
  const data = await api.get(`${config.frames_url}?${params}`);
  const sortName = filters.keypoint !== null ? report.keypoints.names[filters.keypoint] : partLabel(report.layout, filters.part);
  table.querySelector(".sort-col").textContent = `${sortName} 3D mm`;
  const back = `?study=${config.study_id}`;
  table.querySelector("tbody").innerHTML = data.rows
    .map((r) => {
      const link = (text) => `<a href="${r.review_url}${back}">${text}</a>`;
      return (
        `<tr data-task="${r.task}"${r.honeypot ? ' class="honeypot"' : ""}><td>${link(`#${r.task}`)}</td><td>${link(escape(r.label))}</td>` +
        `<td>${r.cameras.map(escape).join(", ")}</td><td>${escape(r.annotator)}</td><td data-status="${r.status}">${r.status}</td>` +
        `<td class="num strong">${link(num(r.sort_error))}</td>` +
        partNames(report.layout).map((p) => `<td class="num">${num(r.error_3d_mm[p])}</td>`).join("") +
        `<td class="num">${num(r.mean_2d_px)}</td><td class="num">${num(r.true_3d_mm)}</td><td class="num">${r.n_corrected}</td></tr>`
      );
    })
    .join("");
  const shown = data.rows.length < data.count ? `showing ${data.rows.length} of ${data.count}` : `${data.count}`;
  root.querySelector(".frames-count").textContent = `${shown} finished tasks`;
  delete table.dataset.loading;
  table.dataset.ready = "1";
}

async function loadReport() {
  try {
    report = await api.get(config.report_url);
  } catch (error) {
    showError(root.querySelector("#report-message"), error);
    return;
  }
  renderSummary();
  renderPartsTable();
  renderHistograms();
  renderKeypointChart();
  renderGroupChart("chart-cameras", report.cameras, "camera", "camera");
  renderGroupChart("chart-annotators", report.annotators, "annotator", "annotator");
  renderAgreement();
  setupFilters();
  const sensitivity = renderInstrument(root, report, config.sensitivity_url);
  await loadFrames();
  root.dataset.ready = "1";
  await sensitivity;
}

export function on() {
  if (root.dataset.page === "studies") {
    const form = studyForm();
    listeners.listen(form.elements.mode, "change", showModeNote);
    listeners.listen(form.elements.dataset, "change", showDataset);
    listeners.listen(form.elements.mode, "change", showDataset);
    listeners.listen(form, "submit", createStudy);
    return;
  }
  const form = root.querySelector("#frame-filters");
  listeners.listen(form, "change", onFiltersChange);
  listeners.listen(form.querySelector("[data-action=clear]"), "click", () =>
    setFilters({ sort: "worst", part: "all", camera: "", annotator: "", keypoint: null }),
  );
  listeners.listen(form.querySelector(".keypoint-chip"), "click", () => setFilters({ keypoint: null }));
  listeners.listen(root.querySelector("#parts-table"), "click", onPartsTableClick);
}

export function off() {
  listeners.off();
}

if (root.dataset.page === "studies") {
  setupForm();
  loadStudies()
    .then(() => (root.dataset.ready = "1"))
    .catch((error) => showError(root.querySelector("#form-message"), error));
} else {
  loadReport();
}
mountPage({ on, off });
