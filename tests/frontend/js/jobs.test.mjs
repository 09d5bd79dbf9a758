// jobs.js: following a worker job by polling and websocket events until it is done or failed.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError } from "../../../frontend/static/frontend/js/api.js";
import { applyProgress, isFinished, watchJob } from "../../../frontend/static/frontend/js/jobs.js";

/** Timers that run only when told: tick() runs every interval once and waits for its poll. */
function manualTimers() {
  const intervals = new Map();
  let next = 1;
  return {
    setInterval(fn) {
      intervals.set(next, fn);
      return next++;
    },
    clearInterval(id) {
      intervals.delete(id);
    },
    get active() {
      return intervals.size;
    },
    async tick() {
      for (const fn of [...intervals.values()]) await fn();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A job server answering the queued copies (or errors) in order, then repeating the last. */
function server(...answers) {
  const calls = [];
  return {
    calls,
    async get(url) {
      calls.push(url);
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const JOB = { id: 7, label: "score:7", url: "/api/jobs/7/", status: "queued", done: 0, total: 4 };

describe("watchJob", () => {
  it("polls until the job is done, shows every copy and finishes once", async () => {
    const timers = manualTimers();
    const api = server({ ...JOB, status: "running", done: 2 }, { ...JOB, status: "done", done: 4, result: { n: 9 } });
    const updates = [];
    const finished = [];
    watchJob(JOB, { get: api.get, intervalMs: 1000, timers, onUpdate: (j) => updates.push(j.status), onFinished: (j) => finished.push(j) });
    assert.deepEqual(updates, ["queued"]);
    await timers.tick();
    await timers.tick();
    assert.deepEqual(updates, ["queued", "running", "done"]);
    assert.equal(finished.length, 1);
    assert.deepEqual(finished[0].result, { n: 9 });
    assert.equal(timers.active, 0, "polling stops when the job ends");
    assert.deepEqual(api.calls, [JOB.url, JOB.url]);
  });

  it("a job that has already ended is shown and finished without a poll", () => {
    const timers = manualTimers();
    const finished = [];
    watchJob({ ...JOB, status: "failed" }, { get: () => assert.fail("no poll"), intervalMs: 1000, timers, onFinished: (j) => finished.push(j.status) });
    assert.deepEqual(finished, ["failed"]);
    assert.equal(timers.active, 0);
  });

  it("a poll without an answer is skipped and the next one tries again; a bug propagates", async () => {
    const timers = manualTimers();
    const api = server(new ApiError("no answer"), { ...JOB, status: "done" });
    const finished = [];
    watchJob(JOB, { get: api.get, intervalMs: 1000, timers, onFinished: (j) => finished.push(j.status) });
    await timers.tick();
    assert.deepEqual(finished, []);
    assert.equal(timers.active, 1);
    await timers.tick();
    assert.deepEqual(finished, ["done"]);

    const buggy = manualTimers();
    watchJob(JOB, { get: async () => { throw new TypeError("bug"); }, intervalMs: 1000, timers: buggy });
    await assert.rejects(buggy.tick(), TypeError);
  });

  it("websocket events update the copy; an end event is confirmed by one poll carrying the result", async () => {
    const timers = manualTimers();
    const api = server({ ...JOB, status: "done", done: 4, result: { skeleton_views: 12 } });
    const updates = [];
    const finished = [];
    const watch = watchJob(JOB, { get: api.get, intervalMs: 1000, timers, onUpdate: (j) => updates.push(`${j.status} ${j.done}`), onFinished: (j) => finished.push(j) });
    watch.progress({ job: "other:1", done: 3, total: 4, state: "running" });
    watch.progress({ job: JOB.label, done: 3, total: 4, state: "running" });
    assert.deepEqual(updates, ["queued 0", "running 3"]);
    assert.equal(api.calls.length, 0);
    watch.progress({ job: JOB.label, done: 4, total: 4, state: "done" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(updates, ["queued 0", "running 3", "done 4", "done 4"]);
    assert.equal(finished.length, 1);
    assert.deepEqual(finished[0].result, { skeleton_views: 12 });
    assert.equal(timers.active, 0);
  });

  it("an end event stands when its confirming poll gets no answer", async () => {
    const timers = manualTimers();
    const finished = [];
    const watch = watchJob(JOB, { get: server(new ApiError("down")).get, intervalMs: 1000, timers, onFinished: (j) => finished.push(j.status) });
    watch.progress({ job: JOB.label, done: 1, total: 4, state: "failed" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(finished, ["failed"]);
    assert.equal(timers.active, 0);
  });

  it("after stop() nothing is shown: neither polls in flight nor events", async () => {
    const timers = manualTimers();
    let release;
    const updates = [];
    const watch = watchJob(JOB, {
      get: () => new Promise((resolve) => (release = resolve)),
      intervalMs: 1000,
      timers,
      onUpdate: (j) => updates.push(j.status),
    });
    const pending = timers.tick();
    watch.stop();
    release({ ...JOB, status: "done" });
    await pending;
    watch.progress({ job: JOB.label, done: 4, total: 4, state: "done" });
    assert.deepEqual(updates, ["queued"]);
    assert.equal(timers.active, 0);
  });
});

describe("job helpers", () => {
  it("applyProgress keeps the status when the event has none and ignores other jobs", () => {
    assert.deepEqual(applyProgress(JOB, { job: JOB.label, done: 1, total: 4 }), { ...JOB, done: 1 });
    assert.equal(applyProgress(JOB, { job: "x", done: 1, total: 4 }), null);
    assert.equal(applyProgress(null, { job: JOB.label }), null);
  });
  it("done and failed are the finished statuses", () => {
    assert.deepEqual(["queued", "running", "done", "failed"].map((status) => isFinished({ status })), [false, false, true, true]);
  });
});
