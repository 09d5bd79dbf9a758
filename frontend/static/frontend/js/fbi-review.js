// The review of an FBI task: the labeller shows the answers read-only (fbi.js); this box accepts the task or
// rejects it back to its annotator with a comment, like the review mode of a correction task.

import { ApiError, get, post } from "./api.js";
import { Listeners, mountPage } from "./lifecycle.js";

const config = JSON.parse(document.getElementById("fbi-config").textContent);
const box = document.querySelector("[data-review]");
const listeners = new Listeners();
let task = null;

function render() {
  const reviewable = task.status === "submitted";
  for (const button of box.querySelectorAll("[data-decision]")) button.disabled = !reviewable;
  box.querySelector(".review-state").textContent = reviewable
    ? `submitted by ${task.assignee}: accept it, or reject it back into their queue with a comment`
    : `${task.status}${task.review_comment ? `: "${task.review_comment}"` : ""} (assignee ${task.assignee})`;
  box.dataset.status = task.status;
}

async function decide(decision) {
  const comment = box.querySelector("#review-comment").value;
  const message = box.querySelector(".review-message");
  const url = decision === "accept" ? config.review.accept_url : config.review.reject_url;
  try {
    const answer = await post(url, { comment, base_revision: task.revision });
    task.status = answer.status;
    task.review_comment = comment.trim();
    message.className = "review-message ok";
    message.textContent = answer.status === "rejected" ? `rejected: back in ${task.assignee}'s queue` : "accepted";
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    message.className = "review-message error";
    message.textContent = error.message;
  }
  render();
}

async function main() {
  try {
    task = await get(config.task_url);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    box.querySelector(".review-message").textContent = `could not load the task: ${error.message}`;
    return;
  }
  render();
  mountPage({ on, off });
}

function onClick(event) {
  const button = event.target.closest("[data-decision]");
  if (button) decide(button.dataset.decision);
}

export function on() {
  listeners.listen(box, "click", onClick);
}

export function off() {
  listeners.off();
}

main();
