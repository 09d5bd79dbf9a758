// The Exports page: start an export job, and list past exports with their progress and download links.
// The list is polled while a job is queued or running. URLs come from the page's config (exports-config),
// not from the form's dataset (form.dataset is the form's <select name="dataset">, not its data attributes).

import { ApiError, get, post } from "./api.js";
import { fileSize } from "./format.js";
import { Listeners, mountPage } from "./lifecycle.js";

const config = JSON.parse(document.getElementById("exports-config").textContent);
const form = document.getElementById("export-form");
const message = document.getElementById("export-message");
const table = document.getElementById("export-list");
const empty = document.getElementById("no-exports");
const POLL_MS = 2000;
const RUNNING = new Set(["queued", "running"]);
const listeners = new Listeners();
let timer = null;

function say(text, kind = "") {
  message.textContent = text;
  message.className = kind;
}

function cell(content, className = "") {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  if (className) td.className = className;
  return td;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  a.setAttribute("download", "");
  return a;
}

function progress(row) {
  const bar = document.createElement("progress");
  bar.max = Math.max(row.progress_total, 1);
  bar.value = row.status === "done" ? bar.max : row.progress_done;
  return bar;
}

function files(row) {
  if (row.status === "done") {
    const span = document.createElement("span");
    span.append(link(row.download_url, "download"), ` ${fileSize(row.size_bytes)} · `, link(row.provenance_url, "provenance"));
    if (row.rig_url) span.append(" · ", link(row.rig_url, "rig"));
    return span;
  }
  if (row.status === "failed") {
    const span = document.createElement("span");
    span.className = "error";
    span.textContent = row.error || "failed";
    return span;
  }
  return "";
}

async function refresh() {
  let rows;
  try {
    rows = await get(config.exports_url);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(`could not load the exports: ${error.message}`, "error");
    return;
  }
  const body = table.querySelector("tbody");
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.export = String(row.id);
      tr.dataset.status = row.status;
      tr.append(
        cell(String(row.id)),
        cell(row.dataset),
        cell(row.format),
        cell(row.version),
        cell(row.subjects.join(", ") || "all"),
        cell(row.status),
        cell(progress(row)),
        cell(String(row.samples), "num"),
        cell(new Date(row.created_at).toLocaleString()),
        cell(files(row)),
      );
      return tr;
    }),
  );
  table.hidden = rows.length === 0;
  empty.hidden = rows.length > 0;
  table.dataset.ready = "1";
  clearTimeout(timer);
  if (rows.some((row) => RUNNING.has(row.status))) timer = listeners.after(POLL_MS, refresh);
}

async function startExport(event) {
  event.preventDefault();
  const data = new FormData(form);
  const subjects = String(data.get("subjects") || "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say("starting the export…");
  try {
    const row = await post(config.exports_url, {
      dataset: data.get("dataset"),
      format: data.get("format"),
      version: data.get("version"),
      subjects,
    });
    say(`export #${row.id} started: it appears below and offers its files when it is done`, "ok");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.message, "error");
  } finally {
    button.disabled = false;
  }
  refresh();
}

export function on() {
  listeners.listen(form, "submit", startExport);
  refresh();
}

export function off() {
  listeners.off();
}

mountPage({ on, off });
