// socket.js's pure helpers: the reconnect backoff and the socket URL.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { BACKOFF_MAX_S, backoffDelay, socketUrl } from "../../../frontend/static/frontend/js/socket.js";

describe("socket helpers", () => {
  it("backs off exponentially up to a ceiling", () => {
    const delays = [0, 1, 2, 3, 10].map(backoffDelay);
    assert.deepEqual(delays.slice(0, 4), [0.5, 1, 2, 4]);
    assert.equal(delays[4], BACKOFF_MAX_S);
  });
  it("builds ws:// and wss:// URLs on the page's host", () => {
    assert.equal(socketUrl("/ws/tasks/3/", { protocol: "http:", host: "h:8000" }), "ws://h:8000/ws/tasks/3/");
    assert.equal(socketUrl("/ws/tasks/3/", { protocol: "https:", host: "h" }), "wss://h/ws/tasks/3/");
  });
});
