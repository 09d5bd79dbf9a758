// The task's websocket: connects, reconnects with exponential backoff, sends a heartbeat while open,
// and hands every message to the caller. It keeps no task state; editor.js turns messages into state.
// Every connection names this page's editor session (session.js), so a reconnecting tab keeps its lock.

import { withSession } from "./session.js";

/** Seconds between heartbeats (the server's lock expires without them). */
export const HEARTBEAT_S = 10;
/** Reconnect delays: first, factor, most (seconds). */
export const BACKOFF_FIRST_S = 0.5;
export const BACKOFF_FACTOR = 2;
export const BACKOFF_MAX_S = 15;

/** Delay (s) before reconnect attempt number `attempt` (0-based). */
export function backoffDelay(attempt) {
  return Math.min(BACKOFF_MAX_S, BACKOFF_FIRST_S * BACKOFF_FACTOR ** attempt);
}

/** ws(s):// URL of a path on this page's host. */
export function socketUrl(path, location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class TaskSocket {
  /**
   * @param {string} url ws(s):// URL of the task's socket.
   * @param {{onMessage: Function, onOpen?: Function, onClose?: Function}} handlers onOpen gets
   *   `reconnected` (true after a drop), onClose the seconds until the next attempt.
   */
  constructor(url, { onMessage, onOpen = () => {}, onClose = () => {} }) {
    this.url = url;
    this.handlers = { onMessage, onOpen, onClose };
    this.ws = null;
    this.attempt = 0;
    this.everOpened = false;
    this.stopped = true;
    this.heartbeat = null;
    this.retryTimer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  send(data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(data));
  }

  get open() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
  }

  connect() {
    const ws = new WebSocket(withSession(this.url));
    this.ws = ws;
    ws.addEventListener("open", () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.send({ action: "heartbeat" }), HEARTBEAT_S * 1000);
      this.handlers.onOpen(reconnected);
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.onMessage(message);
    });
    ws.addEventListener("close", () => {
      clearInterval(this.heartbeat);
      if (this.ws !== ws || this.stopped) return;
      const delay = backoffDelay(this.attempt++);
      this.handlers.onClose(delay);
      this.retryTimer = setTimeout(() => this.connect(), delay * 1000);
    });
  }
}
