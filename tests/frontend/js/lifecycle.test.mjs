// lifecycle.js: a page's on()/off() attach and detach everything they registered, and the back/forward
// cache re-attaches a page instead of attaching it twice.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Listeners, mountPage, observeResize } from "../../../frontend/static/frontend/js/lifecycle.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Listeners", () => {
  it("off() removes every listener it added, with the same options", () => {
    const target = new EventTarget();
    const listeners = new Listeners();
    const seen = [];
    listeners.listen(target, "ping", () => seen.push("a"));
    listeners.listen(target, "ping", () => seen.push("b"), { capture: true });
    target.dispatchEvent(new Event("ping"));
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(listeners.size, 2);
    listeners.off();
    target.dispatchEvent(new Event("ping"));
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(listeners.size, 0);
  });
  it("off() clears intervals and pending timeouts, and stops what it keeps", async () => {
    const listeners = new Listeners();
    let ticks = 0;
    let fired = false;
    let stopped = 0;
    listeners.every(5, () => ticks++);
    listeners.after(5, () => (fired = true));
    listeners.keep({ stop: () => stopped++ });
    listeners.off();
    await sleep(30);
    assert.equal(ticks, 0);
    assert.equal(fired, false);
    assert.equal(stopped, 1);
    listeners.off();
    assert.equal(stopped, 1, "a second off() stops nothing twice");
  });
  it("a timeout that fired is forgotten (a poll that re-arms itself does not pile up entries)", async () => {
    const listeners = new Listeners();
    let n = 0;
    const again = () => {
      if (++n < 5) listeners.after(1, again);
    };
    listeners.after(1, again);
    await sleep(50);
    assert.equal(n, 5);
    assert.equal(listeners.size, 0);
  });
  it("observeResize observes each element and disconnects on stop", () => {
    const calls = [];
    class FakeObserver {
      constructor(fn) {
        this.fn = fn;
      }
      observe(el) {
        calls.push(["observe", el]);
      }
      disconnect() {
        calls.push(["disconnect"]);
      }
    }
    const listeners = new Listeners();
    listeners.keep(observeResize(["a", "b"], () => {}, FakeObserver));
    listeners.off();
    assert.deepEqual(calls, [["observe", "a"], ["observe", "b"], ["disconnect"]]);
  });
});

describe("mountPage", () => {
  function pageEvent(type, persisted) {
    const event = new Event(type);
    event.persisted = persisted;
    return event;
  }

  it("attaches now, detaches on pagehide and re-attaches only when the cache shows the page again", () => {
    const win = new EventTarget();
    const log = [];
    const unmount = mountPage({ on: () => log.push("on"), off: () => log.push("off") }, win);
    assert.deepEqual(log, ["on"]);
    win.dispatchEvent(pageEvent("pagehide", true));
    win.dispatchEvent(pageEvent("pageshow", true));
    assert.deepEqual(log, ["on", "off", "on"]);
    win.dispatchEvent(pageEvent("pageshow", false)); // a first load's pageshow: already attached
    assert.deepEqual(log, ["on", "off", "on"]);
    unmount();
    win.dispatchEvent(pageEvent("pageshow", true));
    assert.deepEqual(log, ["on", "off", "on", "off"]);
  });
});
