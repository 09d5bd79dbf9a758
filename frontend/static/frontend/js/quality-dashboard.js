// The quality section of the reviewer dashboard: "Score quality" starts (or resumes) multi-crop scoring of a
// dataset's skeletons in the workers (POST /api/jobs/score/), its progress bar follows the jobs websocket
// (ws/jobs/) and, as a fallback, polls the job (a worker in another process without a shared channel layer
// cannot reach this page's socket); once done, the report (GET /api/datasets/<name>/quality/): the score
// histogram (Chart.js), the correlation with the true error where a ground truth exists, the skeletons sorted
// by score (each linking to its frame's page), and the best K per subject as a list and a JSON download. The
// report is asked for only once the jobs list shows a scoring job of the selection: before scoring ran there
// is no report, and the page says so without a request that would answer 404.

import { ApiError, get, post } from "./api.js";
import { escape, num } from "./format.js";
import { isFinished, watchJob } from "./jobs.js";
import { Listeners, mountPage } from "./lifecycle.js";
import { TaskSocket, socketUrl } from "./socket.js";

const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const quality = config.quality;
const section = document.getElementById("quality-section");
const form = document.getElementById("quality-form");
/** Milliseconds between polls of a running job. */
const POLL_MS = 2000;

const listeners = new Listeners();
let chart = null;
let watched = null; // watchJob()'s {job, progress, stop} of the job the progress bar follows
let report = null;
let latest = null; // the newest scoring job of the selection, null when it was never scored

function selection() {
  return { dataset: form.elements.dataset.value, source: form.elements.source.value };
}

// --- the job and its progress bar -------------------------------------------------------------------

function showJob(job) {
  const bar = section.querySelector("#quality-progress");
  bar.hidden = false;
  bar.max = Math.max(1, job.total);
  bar.value = job.done;
  section.dataset.jobStatus = job.status;
  const errors = job.chunk_errors?.length ? `: ${job.chunk_errors.join("; ")}` : "";
  section.querySelector("#quality-job").textContent =
    `job #${job.id} · ${job.status} · ${job.done} / ${job.total} chunks` + (job.status === "failed" ? `${job.error ? ` · ${job.error}` : ""}${errors}` : "");
}

function stopWatching() {
  watched?.stop();
  watched = null;
}

function finished(job) {
  form.querySelector("[data-action=score]").disabled = false;
  if (job.status === "done") loadReport();
}

/** Follow `job` until it is done or failed: websocket events as they come, a poll every POLL_MS. */
function watch(job) {
  stopWatching();
  if (!isFinished(job)) form.querySelector("[data-action=score]").disabled = true;
  watched = watchJob(job, { get, intervalMs: POLL_MS, onUpdate: showJob, onFinished: finished });
}

/** A websocket job.progress event {job: label, done, total, state}. */
function onProgress(message) {
  if (!watched || message.job !== watched.job.label) return;
  section.dataset.live = "1";
  watched.progress(message);
}

async function score() {
  const status = section.querySelector("#quality-job");
  status.textContent = "starting…";
  section.dataset.jobStatus = "starting";
  try {
    latest = await post(quality.score_url, selection());
    watch(latest);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    section.dataset.jobStatus = "refused";
    status.textContent = error.message;
  }
}

/** The newest scoring job of the selection (done or not), or null: its report exists only when there is one. */
async function findLatest() {
  const { dataset, source } = selection();
  const jobs = await get(`${quality.jobs_url}?${new URLSearchParams({ kind: quality.job_kind, dataset })}`);
  return jobs.find((j) => j.source === source) ?? null;
}

function showNotScored() {
  const { dataset, source } = selection();
  section.querySelector("#quality-report").hidden = true;
  const note = section.querySelector(".quality-none");
  note.hidden = false;
  note.textContent = `the ${source} skeletons of dataset ${dataset} have not been scored yet: "Score quality" starts it`;
  delete section.dataset.report;
  section.dataset.scored = "0";
}

// --- the report -------------------------------------------------------------------------------------

function reportUrl(extra = {}) {
  const { dataset, source } = selection();
  const best = Math.max(1, Number(form.elements.best.value || 1));
  const params = new URLSearchParams({ source, best: String(best), sort: form.elements.sort.value, limit: "200", ...extra });
  return `${quality.report_prefix}${encodeURIComponent(dataset)}/quality/?${params}`;
}

function renderSummary() {
  const r = report;
  const q = Object.fromEntries(r.quantiles.map((x) => [x.q, x.value]));
  let text = `${r.n_scored} of ${r.n_skeletons} ${r.source} skeletons scored (mean refiner displacement, px; lower is better)`;
  if (r.quantiles.length) text += ` · median ${num(q[0.5])} px, 10–90 % ${num(q[0.1])}–${num(q[0.9])} px`;
  const t = r.truth;
  let truth = "no ground truth for these frames: the score cannot be checked against the true error here";
  if (t?.scored_is_truth) truth = "the scored skeletons are the ground truth: there is no true error to rank them by";
  else if (t && t.spearman_2d === null) {
    truth = `only ${t.n} skeleton(s) with a ground truth: too few to rank (the correlation needs at least 3)`;
  } else if (t) {
    truth = `Spearman correlation with the true face + hand error over ${t.n} skeletons: 2D ${num(t.spearman_2d, 3)}, 3D ${num(t.spearman_3d, 3)}`;
    if (t.mean_true_2d_px) {
      truth += ` · keeping the best ${Math.round(100 * t.keep_fraction)} % lowers the mean true error from ` +
        `${num(t.mean_true_2d_px.all)} to ${num(t.mean_true_2d_px.kept)} px (${num(t.mean_true_3d_mm.all, 1)} to ${num(t.mean_true_3d_mm.kept, 1)} mm)`;
    }
  }
  section.querySelector(".quality-summary").textContent = text;
  const corr = section.querySelector(".quality-correlation");
  corr.textContent = truth;
  corr.dataset.known = t && !t.scored_is_truth ? "1" : "0";
}

function renderHistogram() {
  const { edges, counts } = report.histogram;
  const labels = counts.map((_, i) => `${num(edges[i])}–${num(edges[i + 1])}`);
  chart?.destroy();
  chart = new window.Chart(section.querySelector("#quality-chart"), {
    type: "bar",
    data: { labels, datasets: [{ data: counts, backgroundColor: "#7a4fd6", borderWidth: 0, barPercentage: 1, categoryPercentage: 0.92 }] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { title: { display: true, text: "quality score, px (lower is better)" }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
        y: { title: { display: true, text: "skeletons" }, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
}

function frameLabel(r) {
  return `${r.subject} · ${r.action} · frame ${r.index}`;
}

function frameLink(r, text) {
  return `<a href="${quality.frame_prefix}${encodeURIComponent(r.frame)}/" title="open frame ${r.frame}">${escape(text)}</a>`;
}

function renderFrames() {
  const rows = report.frames.rows;
  const part = (r, p) => num(r.per_part?.[p]);
  section.querySelector("#quality-frames tbody").innerHTML = rows
    .map(
      (r) =>
        `<tr data-skeleton="${r.skeleton}" data-frame="${r.frame}"><td>${frameLink(r, frameLabel(r))}</td><td class="num strong">${num(r.score)}</td>` +
        `<td class="num">${part(r, "face")}</td><td class="num">${part(r, "left_hand")}</td><td class="num">${part(r, "right_hand")}</td>` +
        `<td class="num">${num(r.true_2d_px)}</td><td class="num">${num(r.true_3d_mm, 1)}</td></tr>`,
    )
    .join("");
  const shown = rows.length < report.frames.count ? `showing ${rows.length} of ${report.frames.count}` : `${report.frames.count}`;
  section.querySelector(".quality-frames-count").textContent = `${shown} skeletons, ${report.frames.sort} first`;
}

function renderBest() {
  const best = report.best;
  section.querySelector(".quality-best-k").textContent = String(best.k);
  section.querySelector("#quality-best").innerHTML =
    Object.entries(best.subjects)
      .map(([subject, rows]) =>
        `<li><strong>${escape(subject)}</strong> (${rows.length}): ` +
        rows.map((r) => `<span class="best-item" title="skeleton ${r.skeleton}">${frameLink(r, `${r.action} · ${r.index}`)} <span class="muted">${num(r.score)}</span></span>`).join(", ") +
        `</li>`)
      .join("") || `<li class="muted">nothing scored</li>`;
}

function downloadBest() {
  if (!report?.best) return;
  const data = { dataset: report.dataset, source: report.source, checkpoint: report.checkpoint, k: report.best.k,
    subjects: report.best.subjects };
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  link.download = `${report.dataset}-${report.source}-best-${report.best.k}-per-subject.json`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function loadReport() {
  const box = section.querySelector("#quality-report");
  const note = section.querySelector(".quality-none");
  if (!latest) {
    showNotScored();
    return;
  }
  section.dataset.scored = "1";
  try {
    report = await get(reportUrl());
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    box.hidden = true;
    note.hidden = false;
    note.textContent = error.message;
    delete section.dataset.report;
    return;
  }
  note.hidden = true;
  box.hidden = false;
  renderSummary();
  renderHistogram();
  renderFrames();
  renderBest();
  section.dataset.report = "1";
}

/** Show the selection's newest scoring job (followed while it runs) and its report. */
async function reselect() {
  stopWatching();
  section.querySelector("#quality-progress").hidden = true;
  section.querySelector("#quality-job").textContent = "";
  try {
    latest = await findLatest();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    section.querySelector("#quality-job").textContent = `could not load the scoring jobs: ${error.message}`;
    return;
  }
  // A running job is followed (its report fills in as chunks finish); a finished one is shown.
  if (latest && !isFinished(latest)) watch(latest);
  else if (latest) showJob(latest);
  loadReport();
}

function setup() {
  const datasets = config.options.datasets;
  form.elements.dataset.innerHTML = datasets.map((d) => `<option value="${escape(d.name)}">${escape(d.name)}</option>`).join("");
  form.elements.source.innerHTML = quality.sources.map((s) => `<option value="${s.value}">${escape(s.label)}</option>`).join("");
  form.elements.source.value = quality.default_source;
  if (!datasets.length) form.querySelector("[data-action=score]").disabled = true;
}

export function on() {
  listeners.listen(form.elements.dataset, "change", reselect);
  listeners.listen(form.elements.source, "change", reselect);
  listeners.listen(form.elements.best, "change", () => loadReport());
  listeners.listen(form.elements.sort, "change", () => loadReport());
  listeners.listen(form.querySelector("[data-action=score]"), "click", score);
  listeners.listen(section.querySelector("[data-action=download-best]"), "click", downloadBest);
  if (!config.options.datasets.length) return;
  listeners.keep(new TaskSocket(socketUrl(quality.socket_path), { onMessage: onProgress })).start();
  reselect();
}

export function off() {
  listeners.off();
  stopWatching();
}

setup();
mountPage({ on, off });
