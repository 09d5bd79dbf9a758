// Following a worker job from a page until it ends: a poll of the job's URL every few seconds, merged with
// the jobs websocket's progress events where the page has one. The quality and FBI sections of the
// dashboard both follow jobs; this is the one copy of "poll until done or failed, ignore a missed poll,
// stop when told".

import { ApiError } from "./api.js";

/** Job statuses after which nothing changes. */
export const FINISHED = new Set(["done", "failed"]);

export const isFinished = (job) => FINISHED.has(job.status);

/** A websocket job.progress event {job: label, done, total, state} applied to `job` (null when not this job's). */
export function applyProgress(job, message) {
  if (!job || message.job !== job.label) return null;
  return { ...job, done: message.done, total: message.total, status: message.state ?? job.status };
}

/**
 * Follow `job` (with `url` and `status`): `onUpdate(job)` for every fresh copy, `onFinished(job)` once when
 * it is done or failed, after which polling stops. A poll that gets no answer or an error answer is skipped
 * (the next one tries again); any other error is a bug and propagates. `progress(message)` feeds a
 * websocket event in; an event that says the job ended is confirmed by one poll at once. Returns {job, progress, stop}; `job` is the newest copy.
 *
 * @param {{url: string, status: string, label?: string}} job
 * @param {{get: Function, intervalMs: number, onUpdate?: Function, onFinished?: Function, timers?: object}} options
 *   `get(url)` resolves to the job's JSON (api.get); `timers` is {setInterval, clearInterval} (for tests).
 */
export function watchJob(job, { get, intervalMs, onUpdate = () => {}, onFinished = () => {}, timers = globalThis }) {
  let timer = null;
  let stopped = false;
  const watch = {
    job,
    stop() {
      stopped = true;
      if (timer !== null) timers.clearInterval(timer);
      timer = null;
    },
    progress(message) {
      const fresh = applyProgress(watch.job, message);
      if (!fresh || stopped) return;
      if (!isFinished(fresh)) {
        accept(fresh);
        return;
      }
      // An event carries no result or error text: the end is shown at once, and confirmed from the
      // job's own copy, which has them (the event's copy stands in when no answer comes).
      watch.job = fresh;
      onUpdate(fresh);
      poll(fresh);
    },
  };
  function accept(fresh) {
    if (stopped) return;
    watch.job = fresh;
    onUpdate(fresh);
    if (isFinished(fresh)) {
      watch.stop();
      onFinished(fresh);
    }
  }
  /** One poll; `fallback` is accepted when it gets no answer (null: skip this poll, the next tries again). */
  async function poll(fallback = null) {
    let fresh;
    try {
      fresh = await get(job.url);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (fallback) accept(fallback);
      return;
    }
    accept(fresh);
  }
  onUpdate(job);
  if (isFinished(job)) {
    stopped = true;
    onFinished(job);
  } else {
    timer = timers.setInterval(() => poll(), intervalMs);
  }
  return watch;
}
