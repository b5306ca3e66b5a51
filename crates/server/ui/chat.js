// The visitor's side of web chat. Messages are kept in localStorage until the server
// acknowledges them and are resent with the same client_id after a reconnect or reload,
// so nothing typed is lost and nothing is stored twice. They go one at a time, in order:
// when the server cannot store one now ("unavailable", or "slow_down" when the visitor writes
// too fast) it is retried after a pause, without waiting for a reconnect, and nothing
// typed later overtakes it.
import { applyI18n, onLangChange, t, toggleLang } from "./i18n.js";
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

// Every bubble on screen by key: what it shows, to draw it again after a language switch.
// `state` is the receipt under a visitor's message: an i18n key and an optional detail.
const drawn = new Map();

/** Who answers: the agent's picture (kefu's own /media/ only) or initial, and their name. */
function face(agent) {
  const who = document.createElement("div");
  who.className = "who";
  let pic;
  if (typeof agent.avatar === "string" && agent.avatar.startsWith("/media/")) {
    pic = document.createElement("img");
    pic.src = agent.avatar;
    pic.alt = "";
  } else {
    pic = document.createElement("span");
    pic.textContent = [...agent.name][0] ?? "";
  }
  pic.className = "avatar";
  const name = document.createElement("span");
  name.className = "who-name";
  name.textContent = agent.name;
  who.append(pic, name);
  return who;
}

function draw(li, { from, content, state, agent }) {
  li.className = `bubble ${from}`;
  li.replaceChildren(renderContent(content));
  if (agent?.name) li.prepend(face(agent));
  if (state) {
    const s = document.createElement("span");
    s.className = `state${state.key === "chat.failed" ? " failed" : ""}`;
    s.textContent = state.detail ? `${t(state.key)}: ${state.detail}` : t(state.key);
    li.append(s);
  }
  addChoices(li, content);
}

function bubble(key, from, content, stateKey, detail, agent) {
  const log = $("#chat-log");
  let li = log.querySelector(`[data-key="${CSS.escape(key)}"]`);
  const fresh = !li;
  if (fresh) li = document.createElement("li");
  li.dataset.key = key;
  const shown = { from, content, state: stateKey ? { key: stateKey, detail } : null, agent };
  drawn.set(key, shown);
  draw(li, shown);
  if (fresh) log.append(li);
  log.scrollTop = log.scrollHeight;
  return li;
}

function unbubble(key) {
  drawn.delete(key);
  $(`[data-key="${CSS.escape(key)}"]`)?.remove();
}

function redraw() {
  for (const li of $("#chat-log").children) {
    const shown = drawn.get(li.dataset.key);
    if (shown) draw(li, shown);
  }
}

/** Suggestions (the bot's "did you mean") become buttons that send the chosen question. */
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
  bubble(`m${m.id}`, own ? "customer" : "service", m.content, own ? "chat.sent" : null, undefined, m.agent);
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
      drawn.clear();
      if (f.welcome) bubble("welcome", "service welcome", { type: "text", text: f.welcome });
      for (const m of f.history) showServerMessage(m);
      for (const [cid, text] of unacked) {
        bubble(`c${cid}`, "customer", { type: "text", text }, "chat.sending");
      }
      inFlight = null;
      pump();
      break;
    case "ack": {
      unacked.delete(f.client_id);
      saveUnacked();
      unbubble(`c${f.client_id}`);
      showServerMessage(f.message);
      if (inFlight === f.client_id) inFlight = null;
      retryDelay = 500;
      pump();
      break;
    }
    case "slow_down": {
      const text = unacked.get(f.client_id);
      if (text !== undefined) bubble(`c${f.client_id}`, "customer", { type: "text", text }, "chat.slow");
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
        bubble(`c${f.client_id}`, "customer", { type: "text", text: text ?? "" }, "chat.failed", f.message);
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
    const status = $("#chat-status");
    status.hidden = false;
    status.dataset.i18n = "chat.offline";
    status.textContent = t("chat.offline");
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
  bubble(`c${cid}`, "customer", { type: "text", text }, "chat.sending");
  pump();
}

/** Tells the embedding widget (if any) its button's label in the visitor's language. */
function tellWidget() {
  if (window.parent !== window) window.parent.postMessage({ kefu: "label", text: t("widget.open") }, "*");
}

applyI18n();
tellWidget();
onLangChange(() => {
  redraw();
  tellWidget();
});
$(".lang-toggle").onclick = toggleLang;
$("#chat-form").onsubmit = submit;
$("#chat-input").onkeydown = (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
};
setInterval(() => send({ type: "ping" }), 25000);
connect();
