// The on()/off() lifecycle of the page scripts, like the editor's: every listener, timer and observer a
// page sets up is registered in one Listeners object, so off() removes all of them in one call and a
// page that is shown again from the back/forward cache attaches them afresh instead of twice.

/** What a page attached: listeners, intervals, timeouts, observers and anything with a stop() method. */
export class Listeners {
  constructor() {
    this.entries = [];
    this.timers = new Set();
    this.stoppables = [];
  }

  /** addEventListener that off() undoes; returns the handler as attached. */
  listen(target, type, handler, options = undefined) {
    target.addEventListener(type, handler, options);
    this.entries.push([target, type, handler, options]);
    return handler;
  }

  /** setInterval that off() clears; returns its id. */
  every(ms, fn) {
    const id = setInterval(fn, ms);
    this.timers.add(["interval", id]);
    return id;
  }

  /** setTimeout that off() clears; returns its id. */
  after(ms, fn) {
    const entry = ["timeout", null];
    entry[1] = setTimeout(() => {
      this.timers.delete(entry);
      fn();
    }, ms);
    this.timers.add(entry);
    return entry[1];
  }

  /** Something with stop() (a ResizeObserver's disconnect is wrapped by the caller, a TaskSocket, a job watch). */
  keep(stoppable) {
    this.stoppables.push(stoppable);
    return stoppable;
  }

  /** How many listeners, timers and stoppables are attached (for tests and the console). */
  get size() {
    return this.entries.length + this.timers.size + this.stoppables.length;
  }

  off() {
    for (const [target, type, handler, options] of this.entries) target.removeEventListener(type, handler, options);
    this.entries = [];
    for (const [kind, id] of this.timers) (kind === "interval" ? clearInterval : clearTimeout)(id);
    this.timers.clear();
    for (const stoppable of this.stoppables) stoppable.stop();
    this.stoppables = [];
  }
}

/** A ResizeObserver of `elements` calling `fn`, as a stoppable for Listeners.keep(). */
export function observeResize(elements, fn, Observer = globalThis.ResizeObserver) {
  const observer = new Observer(fn);
  for (const el of elements) observer.observe(el);
  return { stop: () => observer.disconnect() };
}

/**
 * Run a page: on() now, off() when the page is hidden (navigation, closing the tab), on() again when the
 * back/forward cache shows it again. Returns a function that detaches the page for good.
 */
export function mountPage({ on, off }, win = globalThis) {
  const hide = () => off();
  const show = (event) => {
    if (event.persisted) on();
  };
  win.addEventListener("pagehide", hide);
  win.addEventListener("pageshow", show);
  on();
  return () => {
    win.removeEventListener("pagehide", hide);
    win.removeEventListener("pageshow", show);
    off();
  };
}
