// The task queue page: the signed-in annotator's tasks, and "Start next", which asks the server for the
// next task in their queue and opens it in the editor.

import { ApiError, get, post } from "./api.js";

const button = document.getElementById("start-next");
const message = document.getElementById("queue-message");

button?.addEventListener("click", async () => {
  button.disabled = true;
  message.textContent = "";
  try {
    const task = await post(button.dataset.url, {});
    window.location.assign(task.editor_url ?? `${button.dataset.editor}${task.id}/`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.textContent = error.message;
    button.disabled = false;
  }
});

const table = document.getElementById("task-list");

function cell(text, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function loadTasks() {
  if (!table) return;
  const body = table.querySelector("tbody");
  let tasks;
  try {
    tasks = await get(table.dataset.url);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.textContent = `could not load your tasks: ${error.message}`;
    return;
  }
  const rows = Array.isArray(tasks) ? tasks : (tasks.results ?? []);
  body.replaceChildren(
    ...rows.map((t) => {
      const tr = document.createElement("tr");
      const link = document.createElement("a");
      link.href = t.editor_url ?? `${button.dataset.editor}${t.id}/`;
      link.textContent = `Task ${t.id}`;
      const first = document.createElement("td");
      first.appendChild(link);
      const status = cell(t.status.replace("_", " "));
      status.dataset.status = t.status;
      const updated = t.updated_at ? new Date(t.updated_at).toLocaleString() : "";
      tr.append(first, status, cell(`${t.frame.subject} · ${t.frame.action} · frame ${t.frame.index}`),
        cell(t.frame.dataset), cell(String(t.n_corrections ?? 0), "num"), cell(String(t.revision), "num"), cell(updated));
      return tr;
    }),
  );
  table.hidden = rows.length === 0;
  document.getElementById("no-tasks").hidden = rows.length > 0;
}

loadTasks();
