// The page scripts share their helpers instead of copying them (STYLE rule 20): read as text, no page
// script defines its own escaping or number formatting, and none attaches a listener or starts a timer
// past lifecycle.js's Listeners, so off() can detach everything a page attached. A copy that comes back
// in a new page script fails here.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const JS = fileURLToPath(new URL("../../../frontend/static/frontend/js/", import.meta.url));
const scripts = readdirSync(JS)
  .filter((name) => name.endsWith(".js"))
  .map((name) => ({ name, text: readFileSync(join(JS, name), "utf8") }));

/** Modules that own what the rules below forbid elsewhere. */
const OWNERS = {
  format: new Set(["format.js"]),
  // lifecycle.js is the registry; socket.js its own reconnecting socket; editor.js has its listen()/on()/off();
  // study-instrument.js's part menu is rebuilt with each report it renders.
  listeners: new Set(["lifecycle.js", "socket.js", "editor.js", "study-instrument.js"]),
  // jobs.js polls through injected timers; socket.js's heartbeat and backoff are stopped by stop().
  intervals: new Set(["lifecycle.js", "jobs.js", "socket.js", "editor.js"]),
};

/** The page scripts a template loads (besides main-editor.js). */
const PAGES = ["dashboard.js", "exports.js", "fbi-dashboard.js", "fbi-review.js", "fbi.js", "frame.js",
  "quality-dashboard.js", "review.js", "tasks.js"];

const offenders = (pattern, owners) =>
  scripts.filter(({ name, text }) => !owners.has(name) && pattern.test(text)).map(({ name }) => name);

describe("page scripts", () => {
  it("define no escaping or number formatting of their own", () => {
    const definition = /(?:(?:const|let)\s+(?:escape|num|pct|fileSize)\s*=\s*\(|function\s+(?:escape|num|pct|fileSize)\s*\()/;
    assert.deepEqual(offenders(definition, OWNERS.format), []);
    const inlineEscape = /replace\(\/\[&<>/;
    assert.deepEqual(offenders(inlineEscape, OWNERS.format), []);
  });
  it("attach listeners only through Listeners (lifecycle.js)", () => {
    assert.deepEqual(offenders(/\.addEventListener\(/, OWNERS.listeners), []);
  });
  it("start repeating timers only through Listeners or watchJob", () => {
    assert.deepEqual(offenders(/\bsetInterval\(/, OWNERS.intervals), []);
  });
  it("every page script mounts through mountPage with an exported on() and off()", () => {
    // main-editor.js mounts the Editor's own on()/off(); lifecycle.js defines mountPage.
    const pages = scripts.filter(({ name, text }) => /mountPage\(\{ on, off \}\)/.test(text) && name !== "lifecycle.js");
    assert.deepEqual(pages.map(({ name }) => name).sort(), PAGES);
    for (const { name, text } of pages) {
      assert.match(text, /export function on\(\)/, `${name} has no on()`);
      assert.match(text, /export function off\(\)/, `${name} has no off()`);
    }
  });
});
