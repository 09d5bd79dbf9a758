// format.js: the one escaping and number formatting every page uses.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MISSING, escape, fileSize, num, pct, percentValue } from "../../../frontend/static/frontend/js/format.js";

describe("escape", () => {
  it("escapes every character that can open a tag, an entity or leave a quoted attribute", () => {
    assert.equal(escape(`<img src=x onerror="a('b')">&`), "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;");
  });
  it("leaves other text alone and stringifies non-strings", () => {
    assert.equal(escape("S9 · Walking 1 — Ünïcode"), "S9 · Walking 1 — Ünïcode");
    assert.equal(escape(42), "42");
    assert.equal(escape(null), "null");
  });
  it("does not double-escape on one pass (an entity in the input is text, its & is escaped)", () => {
    assert.equal(escape("&amp;"), "&amp;amp;");
  });
});

describe("numbers", () => {
  it("num gives fixed decimals and a dash for missing values, but not for zero", () => {
    assert.equal(num(3.14159), "3.14");
    assert.equal(num(3.14159, 0), "3");
    assert.equal(num("2.5", 1), "2.5");
    assert.equal(num(0), "0.00");
    assert.equal(num(null), MISSING);
    assert.equal(num(undefined), MISSING);
  });
  it("pct writes a fraction as a percentage with one decimal", () => {
    assert.equal(pct(0.25), "25.0%");
    assert.equal(pct(0.12345), "12.3%");
    assert.equal(pct(0), "0.0%");
    assert.equal(pct(null), MISSING);
  });
  it("percentValue is the plotted number, null when missing", () => {
    assert.equal(percentValue(0.12345), 12.3);
    assert.equal(percentValue(1), 100);
    assert.equal(percentValue(0), 0);
    assert.equal(percentValue(undefined), null);
  });
  it("fileSize uses MB from one MiB up and never says 0 KB", () => {
    assert.equal(fileSize(1024 * 1024), "1.0 MB");
    assert.equal(fileSize(1.5 * 1024 * 1024), "1.5 MB");
    assert.equal(fileSize(1024 * 1024 - 1), "1024 KB");
    assert.equal(fileSize(10), "1 KB");
    assert.equal(fileSize(0), "1 KB");
    assert.equal(fileSize(null), "");
  });
});
