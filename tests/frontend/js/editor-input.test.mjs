// editor-input.js's key map: which editor command each key asks for, with its arguments. The editor runs
// the command by name, so every command named here must be an Editor method (checked against editor.js's
// text: editor.js itself needs a DOM to import).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { keyCommand } from "../../../frontend/static/frontend/js/editor-input.js";
import { focusKey } from "../../../frontend/static/frontend/js/panel.js";
import * as S from "../../../frontend/static/frontend/js/state.js";
import * as G from "../../../frontend/static/frontend/js/suggestions.js";
import { payload } from "./task-payload.mjs";

const press = (key, mods = {}) => ({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
const fresh = () => S.createState(payload(3), { user: "ann" });

describe("keyCommand", () => {
  it("maps the documented keys to their commands", () => {
    const state = fresh();
    const face = focusKey("face");
    const cases = [
      [press("z", { ctrlKey: true }), ["undo"]],
      [press("Z", { metaKey: true, shiftKey: true }), ["redo"]],
      [press("y", { ctrlKey: true }), ["redo"]],
      [press("Enter", { ctrlKey: true }), ["submit"]],
      [press(" "), ["holdSpace"]],
      [press(face), ["focusPart", "face"]],
      [press(face.toUpperCase(), { shiftKey: true }), ["togglePart", 11, "face"]],
      [press("2"), ["toggleEnlarged", 12]],
      [press("Enter"), ["toggleEnlarged", 11]],
      [press("Escape"), ["nothing"]],
      [press("0"), ["fitAll"]],
      [press("n"), ["selectStep", 1]],
      [press("Tab"), ["selectStep", 1]],
      [press("p"), ["selectStep", -1]],
      [press("Tab", { shiftKey: true }), ["selectStep", -1]],
      [press("o"), ["flag", "occluded"]],
      [press("U"), ["flag", "unsure"]],
      [press("g"), ["refine"]],
      [press("v"), ["nextView"]],
      [press("Backspace"), ["resetKeypoint"]],
      [press("Delete"), ["resetKeypoint"]],
      [press("?"), ["toggleHelp"]],
    ];
    for (const [event, command] of cases) assert.deepEqual(keyCommand(event, state, 11), command, `key ${event.key}`);
  });

  it("follows a body-only layout: no face or hand keys, no part validity", () => {
    // COCO-17 as the server sends it: one part, no validity parts (its face and hands do not exist).
    const body = payload(3);
    body.layout = { ...body.layout, parts: { body: [0, 8] }, part_of: new Array(8).fill("body"), focus_parts: ["body"],
                    validity_parts: [], links: [[0, 1, "body"]] };
    for (const view of body.views) view.part_valid = {};
    const state = S.createState(body, { user: "ann" });
    assert.deepEqual(keyCommand(press("b"), state, 11), ["focusPart", "body"]);
    for (const event of [press("f"), press("l"), press("r"), press("F", { shiftKey: true }), press("B", { shiftKey: true })]) {
      assert.equal(keyCommand(event, state, 11), null, `key ${event.key}`);
    }
  });

  it("leaves keys it does not own to the browser", () => {
    const state = fresh();
    for (const event of [press("c", { ctrlKey: true }), press("o", { altKey: true }), press("x"), press("9"), press("F5")]) {
      assert.equal(keyCommand(event, state, 11), null, `key ${event.key}`);
    }
  });

  it("Enter and Escape act on suggestions first, then on the enlarged view", () => {
    const state = fresh();
    state.enlarged = 12;
    assert.deepEqual(keyCommand(press("Escape"), state, 11), ["toggleEnlarged", 12]);
    assert.deepEqual(keyCommand(press("Enter"), state, 11), ["toggleEnlarged", 12]);
    G.setSuggestions(state, { view: 11, part: "face", source: "refiner", model: "m", suggestions: { 4: [300, 260] } });
    assert.ok(G.hasSuggestions(state));
    assert.deepEqual(keyCommand(press("Enter"), state, 11), ["acceptSuggestions"]);
    assert.deepEqual(keyCommand(press("Escape"), state, 11), ["dismissSuggestions"]);
  });

  it("names only commands the Editor has", () => {
    const editor = readFileSync(new URL("../../../frontend/static/frontend/js/editor.js", import.meta.url), "utf8");
    const state = fresh();
    state.enlarged = 12;
    const keys = ["z", "y", "Enter", " ", "0", "n", "p", "o", "u", "g", "v", "Delete", "?", "Escape", "1",
      ...state.layout.focus_parts.map(focusKey)];
    const names = new Set(["nothing", "acceptSuggestions", "dismissSuggestions"]);
    for (const key of keys) {
      for (const mods of [{}, { ctrlKey: true }, { shiftKey: true }, { ctrlKey: true, shiftKey: true }]) {
        const command = keyCommand(press(key, mods), state, 11);
        if (command) names.add(command[0]);
      }
    }
    assert.ok(names.size >= 17, [...names].join(", "));
    for (const name of names) assert.match(editor, new RegExp(`^  (async )?${name}\\(`, "m"), `Editor has no ${name}()`);
  });
});
