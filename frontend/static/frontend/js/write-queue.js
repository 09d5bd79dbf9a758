// The editor's write queue: every change the annotator makes is a pending write in the state (state.js's
// enqueue), sent to the server one at a time and in order, each with the revision it was based on. A write
// without an answer (network down, a 5xx) is retried with the socket's backoff and nothing behind it is
// sent first; a 409 conflict means the task changed elsewhere, so the server's state replaces ours and the
// writes based on the old one are dropped (and said to be); any other refusal is said and the task
// reloaded. Apart from the editor's DOM so that retry and conflict handling are tested without a browser.

import { ApiError } from "./api.js";
import * as S from "./state.js";
import { backoffDelay } from "./socket.js";

export const CONFLICT = 409;

export class WriteQueue {
  /**
   * @param {object} state the editor's state (state.createState()); its `pending` list is the queue
   * @param {{post: Function, refresh: Function, apply: Function, progress?: Function, done?: Function,
   *   timers?: {setTimeout: Function, clearTimeout: Function}}} deps
   *   `post(path, body)` sends a write (api.post); `refresh()` reloads the task into the state;
   *   `apply(write, answer)` applies a write's answer; `progress()` redraws while saving; `done()` once a
   *   flush ends (redraw); `timers` for tests.
   */
  constructor(state, { post, refresh, apply, progress = () => {}, done = () => {}, timers = globalThis }) {
    this.state = state;
    this.deps = { post, refresh, apply, progress, done };
    this.timers = timers;
    this.flushing = false;
    this.retryTimer = null;
    this.retryAttempt = 0;
  }

  /** Seconds until the next retry is due, from the attempts so far (the socket's backoff). */
  nextDelay() {
    return backoffDelay(this.retryAttempt++);
  }

  /** Cancel a pending retry (the page goes away). The writes stay queued. */
  stop() {
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Send the pending writes in order; stops at the first that fails and retries it later. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    this.stop();
    const state = this.state;
    const { post, refresh, apply, progress, done } = this.deps;
    let refused = null;
    try {
      for (let write = S.headWrite(state); write; write = S.headWrite(state)) {
        S.setStatus(state, S.SAVING, "saving…");
        progress();
        let answer;
        try {
          answer = await post(write.path, { ...write.body, base_revision: state.task.revision });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          if (error.status === CONFLICT && error.extra?.state) {
            S.applyServerState(state, error.extra.state);
            const dropped = S.clearPending(state);
            state.notice = `the task changed elsewhere; your view was refreshed` +
              (dropped ? ` (${dropped} unsaved change(s), starting with ${write.label}, were not applied)` : "");
            refused = "refreshed after a conflict";
            break;
          }
          if (error.retryable) {
            S.failWrite(state, write.id);
            const delay = this.nextDelay();
            S.setStatus(state, S.ERROR, `could not save ${write.label}: ${error.message}; retrying in ${Math.ceil(delay)} s`);
            this.retryTimer = this.timers.setTimeout(() => this.flush(), delay * 1000);
            return;
          }
          // Refused for good (a 4xx other than a conflict): say so and resynchronise with the server.
          S.completeWrite(state, write.id);
          refused = `${write.label} was refused: ${error.message}`;
          state.notice = refused;
          await refresh();
          continue;
        }
        this.retryAttempt = 0;
        S.completeWrite(state, write.id);
        await apply(write, answer);
      }
      if (refused) S.setStatus(state, S.ERROR, refused);
      else S.settledStatus(state);
    } finally {
      this.flushing = false;
      done();
    }
  }
}
