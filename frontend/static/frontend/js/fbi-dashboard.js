// The FBI section of the reviewer dashboard: start labelling a dataset's bones from 3D in the worker (progress
// over the jobs websocket, with polling as a fallback), and the agreement of people's answers with the
// skeletons: error and skip rates per tilt bin (Chart.js) and the probable depth errors with their expected
// false-alarm rate; the frames a reviewer ticks (none is ticked for them) can be sent to an annotator's queue.

import { ApiError, get, post } from "./api.js";
import { escape, percentValue } from "./format.js";
import { watchJob } from "./jobs.js";
import { Listeners, mountPage } from "./lifecycle.js";
import { TaskSocket, socketUrl } from "./socket.js";

const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const fbi = config.fbi;
const section = document.getElementById("fbi-section");
const form = document.getElementById("fbi-form");
const status = document.getElementById("fbi-job");
const POLL_MS = 1000;
const REFERENCE_LABELS = { dataset: "dataset skeleton", corrected: "corrected skeleton", ground_truth: "ground truth" };

const listeners = new Listeners();
let chart = null;
let following = null; // the labelling job followed: {stop} of its poll and websocket
let errorFrames = [];

function options(select, values, selected) {
  select.innerHTML = values.map((v) => `<option value="${escape(v)}"${v === selected ? " selected" : ""}>${escape(v)}</option>`).join("");
}

function setup() {
  options(form.elements.dataset, config.options.datasets.map((d) => d.name));
  options(form.elements.source, fbi.sources, "all");
  options(form.elements.bones, fbi.bone_subsets, fbi.bone_subsets[0]);
  form.elements.unknown_tilt_deg.value = fbi.unknown_tilt_deg;
  options(document.querySelector("#fbi-send select[name=annotator]"), config.options.annotators);
}

export function on() {
  listeners.listen(form.querySelector("[data-action=label]"), "click", startJob);
  listeners.listen(form.querySelector("[data-action=agreement]"), "click", loadAgreement);
  listeners.listen(document.getElementById("fbi-send"), "submit", sendToQueue);
  listeners.listen(document.getElementById("fbi-errors"), "change", updateChosen);
}

export function off() {
  listeners.off();
  following?.stop();
  following = null;
}

// --- the labelling job ------------------------------------------------------------------------------

function showJob(job) {
  const bar = form.querySelector(".fbi-job-bar");
  bar.hidden = false;
  bar.querySelector("span").style.width = `${job.total ? (100 * job.done) / job.total : 0}%`;
  const t = job.result;
  const done = job.status === "done" && t ? ` · ${t.skeleton_views ?? 0} skeleton-views labelled` : "";
  status.textContent = `${job.label}: ${job.status}, ${job.done} / ${job.total} chunks${done}`;
  section.dataset.job = job.status;
}

async function startJob() {
  const body = {
    dataset: form.elements.dataset.value,
    source: form.elements.source.value,
    bones: form.elements.bones.value,
    unknown_tilt_deg: Number(form.elements.unknown_tilt_deg.value),
  };
  status.textContent = "starting…";
  let job;
  try {
    job = await post(fbi.jobs_url, body);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    status.textContent = error.message;
    return;
  }
  following?.stop();
  // The websocket only hears of progress made by workers of this server; polling covers the rest.
  const socket = new TaskSocket(socketUrl(fbi.socket_path), { onMessage: (message) => watch.progress(message) });
  socket.start();
  const watch = watchJob(job, { get, intervalMs: POLL_MS, onUpdate: showJob, onFinished: () => socket.stop() });
  following = {
    stop() {
      watch.stop();
      socket.stop();
    },
  };
}

// --- agreement --------------------------------------------------------------------------------------

function drawChart(report) {
  const bins = report.tilt_bins_deg;
  const labels = bins.slice(0, -1).map((lo, i) => (i === bins.length - 2 ? `> ${lo}°` : `${lo}–${bins[i + 1]}°`));
  const datasets = [];
  const colors = { dataset: "#2f6fde", corrected: "#00b050", ground_truth: "#1d2330" };
  for (const [source, ref] of Object.entries(report.references)) {
    if (!ref) continue;
    datasets.push({ label: `errors vs ${REFERENCE_LABELS[source]}`, data: ref.bins.map((b) => percentValue(b.error_rate)),
      backgroundColor: colors[source] });
  }
  const anyRef = Object.values(report.references).find((r) => r);
  datasets.push({ label: "skipped or unknown", data: anyRef.bins.map((b) => percentValue(b.skip_rate)), backgroundColor: "#c9ced8" });
  chart?.destroy();
  chart = new window.Chart(document.getElementById("fbi-chart"), {
    type: "bar",
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { title: { display: true, text: "% of answers" }, beginAtZero: true }, x: { title: { display: true, text: "bone tilt out of the image plane" } } },
    },
  });
}

/** What the list holds and how often it is wrong: the policy, and its calibration on rigs with ground truth. */
function policyText(report) {
  const p = report.policy;
  const c = report.calibration;
  let text =
    `Listed: ${p.groups.join(" and ")} bones of ${p.length_mm[0]}–${p.length_mm[1]} mm tilted ${p.tilt_deg[0]}–${p.tilt_deg[1]}° ` +
    `that at least ${p.min_agreeing} people contradict and nobody confirms.`;
  if (report.policy_note) text += ` Note: ${report.policy_note}.`;
  if (c.applies) {
    text +=
      ` Expected false alarms: ${Math.round(100 * c.expected_false_alarm_rate)}% of the list (precision ` +
      `${c.precision[0].toFixed(2)} ± ${c.precision[1].toFixed(2)} over ${c.seeds} unseen rigs with ${c.labellers_per_frame} ` +
      `labellers per frame). Nothing is sent anywhere until you tick frames below.`;
  }
  if (report.max_labellers < p.min_agreeing) {
    text += ` These answers have at most ${report.max_labellers} person per bone: nothing can be listed until ${p.min_agreeing} people label the same frames.`;
  }
  return text;
}

/** The frames the reviewer ticked, in order, each once. */
function chosenFrames() {
  const ticked = [...document.querySelectorAll("#fbi-errors input[name=choose]:checked")].map((i) => Number(i.value));
  return [...new Set(ticked)];
}

function updateChosen() {
  const frames = chosenFrames();
  document.querySelector(".fbi-chosen").textContent = frames.length ? `${frames.length} frame(s) ticked` : "tick the frames to send";
  document.querySelector("#fbi-send button[type=submit]").disabled = frames.length === 0;
}

function drawErrors(report) {
  const rows = report.probable_depth_errors;
  errorFrames = report.depth_error_frames;
  const body = document.querySelector("#fbi-errors tbody");
  body.innerHTML = rows
    .map(
      (e) =>
        `<tr data-frame="${e.frame}"><td><input type="checkbox" name="choose" value="${e.frame}" aria-label="send frame ${escape(e.frame_label)}"></td>` +
        `<td><a href="${escape(e.url)}">${escape(e.frame_label)}</a></td><td>${escape(e.camera)}</td>` +
        `<td>${escape(e.bone.replace(/_/g, " "))}</td><td class="num">${e.tilt_deg.toFixed(1)}</td><td class="num">${e.length_mm.toFixed(0)}</td>` +
        `<td class="num">${e.n_against} / ${e.n_with}</td><td>${escape(e.human)}</td>` +
        `<td class="${e.dataset_wrong ? "wrong" : ""}">${escape(e.dataset)}</td><td>${escape(e.ground_truth ?? "–")}</td>` +
        `<td>${e.annotators.map(escape).join(", ")}</td></tr>`,
    )
    .join("");
  const check = report.depth_error_check;
  document.querySelector(".fbi-errors-note").textContent =
    `${rows.length} bones on ${errorFrames.length} frames` +
    (check ? ` · ${check.dataset_wrong} of ${check.n} really backwards in the dataset (ground truth)` : "");
  document.querySelector(".fbi-policy").textContent = policyText(report);
  document.getElementById("fbi-send").hidden = errorFrames.length === 0;
  document.querySelector(".fbi-send-message").textContent = "";
  updateChosen();
}

async function loadAgreement() {
  const box = document.getElementById("fbi-agreement");
  let answer;
  try {
    answer = await get(`${fbi.agreement_url}?dataset=${encodeURIComponent(form.elements.dataset.value)}`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    status.textContent = error.message;
    return;
  }
  const report = answer.fbi;
  if (!report) {
    box.hidden = true;
    status.textContent = "no finished FBI task in this dataset yet";
    return;
  }
  box.hidden = false;
  const s = report.seconds;
  document.querySelector(".fbi-summary").textContent =
    `${report.n_answers} answers on ${report.n_images} images of ${report.n_frames} frames by ${report.annotators.join(", ")}; ` +
    `${s.per_image_median.toFixed(1)} s per image (median), ${s.per_answer_mean.toFixed(1)} s per answer. ` +
    `Skeleton labels are unknown below ${report.unknown_tilt_deg}°.`;
  drawChart(report);
  drawErrors(report);
  section.dataset.agreement = "1";
}

async function sendToQueue(event) {
  event.preventDefault();
  const message = document.querySelector(".fbi-send-message");
  const annotator = event.target.elements.annotator.value;
  const frames = chosenFrames();
  if (!frames.length) {
    message.className = "fbi-send-message error";
    message.textContent = "tick the frames to send first: no flag goes to the queue unless you choose it";
    return;
  }
  try {
    const out = await post(fbi.depth_error_tasks_url, { frames, annotator });
    message.className = "fbi-send-message ok";
    message.textContent = `${out.created.length} correction tasks at the front of ${annotator}'s queue` +
      (out.skipped.length ? `; ${out.skipped.length} frames skipped (${out.skipped[0].reason})` : "");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.className = "fbi-send-message error";
    message.textContent = error.message;
  }
}

if (section) {
  setup();
  mountPage({ on, off });
}
