// The task list page: "Start next" asks the server for the next task of the signed-in user's queue and opens
// it (the list itself, its filters and sort are rendered by the server).

import { ApiError, post } from "./api.js";
import { Listeners, mountPage } from "./lifecycle.js";

const button = document.getElementById("start-next");
const message = document.getElementById("queue-message");
const listeners = new Listeners();

async function startNext() {
  button.disabled = true;
  message.textContent = "";
  try {
    const task = await post(button.dataset.url, {});
    window.location.assign(task.editor_url);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.textContent = error.message;
    button.disabled = false;
  }
}

export function on() {
  if (button) listeners.listen(button, "click", startNext);
}

export function off() {
  listeners.off();
}

mountPage({ on, off });
