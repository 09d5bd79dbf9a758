// The one HTTP client of the front end: JSON in and out, the session's CSRF token on every write, and
// the server's error format {"message", "extra"} turned into an ApiError carrying message, status and
// extra. A network failure (no answer at all) is an ApiError with status 0. Every request names this
// page's editor session (session.js), which the server's edit lock belongs to. Answers never come from the
// cache.

import { EDITOR_SESSION, SESSION_HEADER } from "./session.js";

/** An HTTP call that did not succeed: `status` 0 means no answer (network down, server gone). */
export class ApiError extends Error {
  constructor(message, { status = 0, extra = {} } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
  }

  /** Whether trying again later may succeed (no answer, or a server-side failure). */
  get retryable() {
    return this.status === 0 || this.status >= 500;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Call `path` with `method`; `body` is sent as JSON. Resolves to the parsed JSON answer (or null). */
export async function request(method, path, body = undefined) {
  const headers = { Accept: "application/json", [SESSION_HEADER]: EDITOR_SESSION };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) headers["X-CSRFToken"] = cookie("csrftoken") ?? "";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      // Live data, never the HTTP cache's copy (a page reached with the back button reuses cached answers:
      // a job list from before scoring ran, a task's old status).
      cache: "no-store",
    });
  } catch (exc) {
    throw new ApiError(`no answer from the server (${exc.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message = data?.message ?? data?.detail ?? `${response.status} ${response.statusText}`;
    throw new ApiError(message, { status: response.status, extra: data?.extra ?? {} });
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);
