// The visitor's side of web chat. Messages are kept in localStorage until the server
// acknowledges them and are resent with the same client_id after a reconnect or reload,
// so nothing typed is lost and nothing is stored twice. They go one at a time, in order:
// when the server cannot store one now ("unavailable", or "slow_down" when the visitor writes
// too fast) it is retried after a pause, without waiting for a reconnect, and nothing
// typed later overtakes it.
import { applyI18n, t, toggleLang } from "./i18n.js";
import { renderContent } from "./content.js";

const $ = (sel) => document.querySelector(sel);
const channel = new URLSearchParams(location.search).get("c") || "web";
const keyOf = (name) => `kefu.${name}.${channel}`;

function visitorId() {
  let id = localStorage.getItem(keyOf("visitor"));
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(keyOf("visitor"), id);
  }
  return id;
}

const visitor = visitorId();
const unacked = new Map(JSON.parse(localStorage.getItem(keyOf("unacked")) || "[]"));
let ws = null;
let delay = 500;
let inFlight = null;
let retryTimer = null;
let retryDelay = 500;

function saveUnacked() {
  localStorage.setItem(keyOf("unacked"), JSON.stringify([...unacked]));
}

function bubble(key, from, content, stateText, failed) {
  const log = $("#chat-log");
  let li = log.querySelector(`[data-key="${CSS.escape(key)}"]`);
  const fresh = !li;
  if (fresh) li = document.createElement("li");
  li.dataset.key = key;
  li.className = `bubble ${from}`;
  li.replaceChildren(renderContent(content));
  if (stateText) {
    const s = document.createElement("span");
    s.className = `state${failed ? " failed" : ""}`;
    s.textContent = stateText;
    li.append(s);
  }
  if (fresh) log.append(li);
  log.scrollTop = log.scrollHeight;
  return li;
}

/** Suggestions ("猜你想问") become buttons that send the chosen question. */
function addChoices(li, content) {
  if (content.type !== "menu") return;
  const list = document.createElement("div");
  list.className = "choices";
  for (const ch of content.choices) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "choice";
    b.textContent = ch.text;
    b.onclick = () => sendText(ch.text);
    list.append(b);
  }
  li.querySelector(".msg-menu ol")?.replaceWith(list);
}

function showServerMessage(m) {
  const own = m.from === "customer";
  const li = bubble(`m${m.id}`, own ? "customer" : "service", m.content, own ? t("chat.sent") : null);
  addChoices(li, m.content);
  if (!own && m.id > Number(localStorage.getItem(keyOf("seen")) || 0)) {
    localStorage.setItem(keyOf("seen"), String(m.id));
    send({ type: "delivered", id: m.id });
  }
}

function send(frame) {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

/** Sends the oldest unacknowledged message, unless one is on its way or a retry is pending. */
function pump() {
  if (inFlight || retryTimer || ws?.readyState !== WebSocket.OPEN) return;
  const next = unacked.entries().next();
  if (next.done) return;
  const [cid, text] = next.value;
  inFlight = cid;
  send({ type: "send", client_id: cid, text });
}

function retryLater(ms) {
  inFlight = null;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    pump();
  }, ms);
}

function onFrame(f) {
  switch (f.type) {
    case "hello":
      $("#chat-log").replaceChildren();
      if (f.welcome) bubble("welcome", "service welcome", { type: "text", text: f.welcome });
      for (const m of f.history) showServerMessage(m);
      for (const [cid, text] of unacked) {
        bubble(`c${cid}`, "customer", { type: "text", text }, t("chat.sending"));
      }
      inFlight = null;
      pump();
      break;
    case "ack": {
      unacked.delete(f.client_id);
      saveUnacked();
      $(`[data-key="c${f.client_id}"]`)?.remove();
      showServerMessage(f.message);
      if (inFlight === f.client_id) inFlight = null;
      retryDelay = 500;
      pump();
      break;
    }
    case "slow_down": {
      const text = unacked.get(f.client_id);
      if (text !== undefined) bubble(`c${f.client_id}`, "customer", { type: "text", text }, t("chat.slow"));
      retryLater(f.retry_after_ms);
      break;
    }
    case "message":
      showServerMessage(f.message);
      break;
    case "error":
      if (f.client_id && f.code === "invalid") {
        const text = unacked.get(f.client_id);
        unacked.delete(f.client_id);
        saveUnacked();
        bubble(`c${f.client_id}`, "customer", { type: "text", text: text ?? "" }, `${t("chat.failed")}: ${f.message}`, true);
        if (inFlight === f.client_id) inFlight = null;
        pump();
      } else if (f.client_id && f.code === "unavailable") {
        retryLater(retryDelay);
        retryDelay = Math.min(retryDelay * 2, 5000);
      }
      break;
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${proto}//${location.host}/webchat/ws?c=${encodeURIComponent(channel)}&v=${encodeURIComponent(visitor)}`;
  ws = new WebSocket(url);
  ws.onopen = () => {
    delay = 500;
    $("#chat-status").hidden = true;
  };
  ws.onmessage = (e) => onFrame(JSON.parse(e.data));
  ws.onclose = () => {
    inFlight = null;
    $("#chat-status").hidden = false;
    $("#chat-status").textContent = t("chat.offline");
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 10000);
  };
}

function submit(e) {
  e.preventDefault();
  const input = $("#chat-input");
  const text = input.value;
  if (!text.trim()) return;
  sendText(text);
  input.value = "";
}

function sendText(text) {
  const cid = crypto.randomUUID();
  unacked.set(cid, text);
  saveUnacked();
  bubble(`c${cid}`, "customer", { type: "text", text }, t("chat.sending"));
  pump();
}

applyI18n();
$(".lang-toggle").onclick = toggleLang;
$("#chat-form").onsubmit = submit;
$("#chat-input").onkeydown = (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
};
setInterval(() => send({ type: "ping" }), 25000);
connect();
