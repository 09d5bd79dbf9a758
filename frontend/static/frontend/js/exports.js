// The Exports page: start an export job, and list past exports with their progress and download links.
// The list is polled while a job is queued or running.

import { ApiError, get, post } from "./api.js";

const form = document.getElementById("export-form");
const message = document.getElementById("export-message");
const table = document.getElementById("export-list");
const empty = document.getElementById("no-exports");
const POLL_MS = 2000;
let timer = null;

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
    span.append(link(row.download_url, "download"), " · ", link(row.provenance_url, "provenance"));
    return span;
  }
  return row.error || "";
}

async function refresh() {
  let rows;
  try {
    rows = await get(form.dataset.url);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.textContent = `could not load the exports: ${error.message}`;
    return;
  }
  const body = table.querySelector("tbody");
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
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
  empty.hidden = rows.length > 0;
  clearTimeout(timer);
  if (rows.some((row) => row.status === "queued" || row.status === "running")) timer = setTimeout(refresh, POLL_MS);
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  const data = new FormData(form);
  const subjects = String(data.get("subjects") || "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    await post(form.dataset.url, {
      dataset: data.get("dataset"),
      format: data.get("format"),
      version: data.get("version"),
      subjects,
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.textContent = error.message;
  }
  refresh();
});

if (form) refresh();
