// A small client for kefu's JSON API: session cookie plus the CSRF token on every change.

let csrf = "";

export function setCsrf(token) {
  csrf = token;
}

export function csrfToken() {
  return csrf;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
    // The whole answer: some errors carry details (the rows of a refused import).
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const res = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Posts a file as the raw body (imports); errors as for `api`. */
export async function upload(path, file) {
  const res = await fetch(`/api${path}`, {
    method: "POST",
    headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    body: file,
    credentials: "same-origin",
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Close code the server uses when the session ended (disabled account, forced log-out). */
const SIGNED_OUT = 4401;

/** A WebSocket that reconnects with backoff; onOpen runs after every (re)connect. */
export function liveSocket(path, { onMessage, onOpen, onDown, onSignedOut }) {
  let delay = 500;
  let ws;
  let stopped = false;
  const connect = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}${path}`);
    ws.onopen = () => {
      delay = 500;
      onOpen?.();
    };
    // A sign of life: without it the server sets an agent who left without logging out offline.
    const beat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), 25000);
    ws.onmessage = (e) => onMessage(JSON.parse(e.data));
    ws.onclose = (e) => {
      clearInterval(beat);
      if (stopped) return;
      if (e.code === SIGNED_OUT) {
        stopped = true;
        onSignedOut?.();
        return;
      }
      onDown?.();
      setTimeout(reconnect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  // A handshake refused for a dead session looks like any dropped connection (1006): ask
  // whether the session still holds before trying again, so the login form appears instead.
  const reconnect = async () => {
    try {
      const res = await fetch("/api/me", { credentials: "same-origin" });
      if (res.status === 401) {
        stopped = true;
        onSignedOut?.();
        return;
      }
    } catch {
      // The server is unreachable: keep trying, with the backoff.
    }
    if (!stopped) connect();
  };
  connect();
  return {
    send: (obj) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify(obj)),
    stop: () => {
      stopped = true;
      ws?.close();
    },
  };
}
