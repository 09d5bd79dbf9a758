// Entry point of the editor page: load the task, build the editor, connect the websocket, and mark
// the page ready (data-ready="1" on the editor and an "editor:ready" event) once every image is
// decoded and the skeleton drawn.

import * as api from "./api.js";
import { Editor } from "./editor.js";
import { mountPage } from "./lifecycle.js";
import { TaskSocket, socketUrl } from "./socket.js";
import { createState } from "./state.js";

async function main() {
  const root = document.getElementById("editor");
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  let payload;
  try {
    payload = await api.get(config.task_url);
  } catch (error) {
    const notice = root.querySelector(".banner.notice");
    notice.hidden = false;
    notice.querySelector(".text").textContent = `could not load the task: ${error.message}`;
    root.querySelector(".status-line").textContent = "not loaded";
    return;
  }
  const state = createState(payload, { user: config.user });
  const editor = new Editor(root, state, { api, urls: { task: config.task_url, next: config.next_url } });
  const images = editor.mount();
  const socket = new TaskSocket(socketUrl(config.socket_path), {
    onMessage: (message) => editor.onSocketMessage(message),
    onOpen: (reconnected) => editor.onSocketOpen(reconnected),
    onClose: () => editor.onSocketClose(),
  });
  mountPage({
    on() {
      editor.on();
      socket.start();
    },
    off() {
      socket.stop();
      editor.off();
    },
  });
  editor.render();
  // An image that fails to load still lets the editor work on the skeleton.
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  editor.render();
  // Milliseconds from the start of the navigation to an interactive editor (tests/benchmarks/editor_load.py).
  root.dataset.readyMs = performance.now().toFixed(1);
  root.dataset.ready = "1";
  root.dispatchEvent(new CustomEvent("editor:ready", { bubbles: true }));
  // For tests and the console; the editor keeps its own references.
  window.editor = editor;
}

main();
