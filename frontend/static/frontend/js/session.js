// This page's editor session: a random id made once per page load. The server's edit lock belongs to one
// session (one browser tab), not to a user, so two tabs of one user are two sessions and only one of them
// edits. api.js sends the id with every request (SESSION_HEADER), socket.js with every websocket
// connection (?session=), and a tab that reconnects keeps its lock because it keeps its id.

/** The request header that carries the session id (api/task_apis.py reads it). */
export const SESSION_HEADER = "X-Editor-Session";

/** 32 hex digits from the browser's random source (crypto.randomUUID needs a secure context; this does not). */
export function randomSessionId(random = globalThis.crypto) {
  const bytes = new Uint8Array(16);
  random.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const EDITOR_SESSION = randomSessionId();

/** `url` with this page's session as its `session` query parameter. */
export function withSession(url, session = EDITOR_SESSION) {
  return `${url}${url.includes("?") ? "&" : "?"}session=${encodeURIComponent(session)}`;
}
