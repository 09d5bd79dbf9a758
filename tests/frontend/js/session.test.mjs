// session.js: the editor session id (one per page load) that the edit lock belongs to.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { EDITOR_SESSION, randomSessionId, withSession } from "../../../frontend/static/frontend/js/session.js";

/** What api/consumers.py accepts as a session id. */
const SERVER_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

describe("editor session", () => {
  it("is a random id the server accepts, different per page", () => {
    assert.match(EDITOR_SESSION, SERVER_PATTERN);
    assert.notEqual(randomSessionId(), randomSessionId());
    assert.equal(randomSessionId({ getRandomValues: (bytes) => bytes.fill(171) }), "ab".repeat(16));
  });
  it("is added to a socket URL as a query parameter", () => {
    assert.equal(withSession("ws://h/ws/tasks/3/", "abc12345"), "ws://h/ws/tasks/3/?session=abc12345");
    assert.equal(withSession("ws://h/ws/tasks/3/?x=1", "abc12345"), "ws://h/ws/tasks/3/?x=1&session=abc12345");
  });
});
