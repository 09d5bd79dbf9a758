// write-queue.js: the editor's writes go out one at a time and in order; a write without an answer is
// retried (and nothing overtakes it), a conflict replaces the state and drops what was based on the old
// one, a refusal is said and the task reloaded. The server here is a function answering like the API.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError } from "../../../frontend/static/frontend/js/api.js";
import { BACKOFF_FIRST_S } from "../../../frontend/static/frontend/js/socket.js";
import * as S from "../../../frontend/static/frontend/js/state.js";
import { CONFLICT, WriteQueue } from "../../../frontend/static/frontend/js/write-queue.js";
import { payload } from "./task-payload.mjs";

/** Timeouts that fire only when told. */
function manualTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout(fn, ms) {
      pending.set(next, { fn, ms });
      return next++;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    delays: () => [...pending.values()].map((t) => t.ms),
    async fire() {
      const due = [...pending.values()];
      pending.clear();
      for (const t of due) await t.fn();
    },
  };
}

/** A server answering each write from `script` in turn (an Error is thrown), recording what it got. */
function server(script) {
  const received = [];
  return {
    received,
    async post(path, body) {
      received.push({ path, body });
      const next = script.shift();
      if (next instanceof Error) throw next;
      return typeof next === "function" ? next(body) : next;
    },
  };
}

function setUp(script) {
  const state = S.createState(payload(3), { user: "ann" });
  const api = server(script);
  const timers = manualTimers();
  const log = [];
  const queue = new WriteQueue(state, {
    post: api.post,
    refresh: async () => log.push("refresh"),
    apply: async (write, answer) => {
      log.push(`apply ${write.label}`);
      state.task.revision = answer.revision;
    },
    done: () => log.push("done"),
    timers,
  });
  const write = (label) => S.enqueue(state, { kind: "correction", path: `/w/${label}/`, body: { label }, label });
  return { state, api, timers, log, queue, write };
}

describe("WriteQueue", () => {
  it("sends writes in order, each with the revision the previous answer left", async () => {
    const { state, api, log, queue, write } = setUp([{ revision: 4 }, { revision: 5 }]);
    write("a");
    write("b");
    await queue.flush();
    assert.deepEqual(api.received.map((r) => [r.path, r.body.base_revision]), [["/w/a/", 3], ["/w/b/", 4]]);
    assert.deepEqual(log, ["apply a", "apply b", "done"]);
    assert.equal(state.pending.length, 0);
    assert.equal(state.status.kind, S.SAVED);
  });

  it("a flush while one runs does not send anything twice", async () => {
    const { api, queue, write } = setUp([{ revision: 4 }]);
    write("a");
    await Promise.all([queue.flush(), queue.flush()]);
    assert.equal(api.received.length, 1);
  });

  it("a write without an answer stays first, is retried after the backoff and nothing overtakes it", async () => {
    const { state, api, timers, queue, write } = setUp([new ApiError("no answer"), new ApiError("502", { status: 502 }), { revision: 4 }, { revision: 5 }]);
    write("a");
    write("b");
    await queue.flush();
    assert.equal(state.status.kind, S.ERROR);
    assert.match(state.status.text, /could not save a: no answer; retrying in 1 s/);
    assert.deepEqual(timers.delays(), [BACKOFF_FIRST_S * 1000]);
    assert.deepEqual(state.pending.map((w) => [w.label, w.attempts]), [["a", 1], ["b", 0]]);
    await timers.fire();
    assert.deepEqual(timers.delays(), [2 * BACKOFF_FIRST_S * 1000], "the second failure waits longer");
    await timers.fire();
    assert.deepEqual(api.received.map((r) => r.path), ["/w/a/", "/w/a/", "/w/a/", "/w/b/"]);
    assert.equal(state.pending.length, 0);
    assert.equal(queue.retryAttempt, 0, "a success resets the backoff");
  });

  it("a conflict takes the server's state and drops the writes based on the old one, saying so", async () => {
    const fresh = { ...payload(9), status: "in_progress" };
    const { state, api, log, queue, write } = setUp([new ApiError("changed", { status: CONFLICT, extra: { state: fresh } })]);
    write("a");
    write("b");
    await queue.flush();
    assert.equal(api.received.length, 1);
    assert.equal(state.task.revision, 9);
    assert.equal(state.pending.length, 0);
    assert.match(state.notice, /the task changed elsewhere.*2 unsaved change\(s\), starting with a, were not applied/);
    assert.equal(state.status.kind, S.ERROR);
    assert.equal(state.status.text, "refreshed after a conflict");
    assert.deepEqual(log, ["done"]);
  });

  it("a refusal drops that write only, says so, reloads the task and sends the rest", async () => {
    const { state, api, log, queue, write } = setUp([new ApiError("keypoint 999 does not exist", { status: 400 }), { revision: 4 }]);
    write("a");
    write("b");
    await queue.flush();
    assert.deepEqual(api.received.map((r) => r.path), ["/w/a/", "/w/b/"]);
    assert.deepEqual(log, ["refresh", "apply b", "done"]);
    assert.equal(state.notice, "a was refused: keypoint 999 does not exist");
    assert.equal(state.status.text, "a was refused: keypoint 999 does not exist");
  });

  it("stop() cancels the retry but keeps the write queued; a bug is not swallowed", async () => {
    const { state, timers, queue, write } = setUp([new ApiError("no answer")]);
    write("a");
    await queue.flush();
    queue.stop();
    assert.deepEqual(timers.delays(), []);
    assert.equal(state.pending.length, 1);

    const broken = setUp([new TypeError("bug")]);
    broken.write("a");
    await assert.rejects(broken.queue.flush(), TypeError);
    assert.equal(broken.queue.flushing, false);
  });
});
