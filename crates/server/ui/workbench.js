// The agent workbench: login, conversation list, live feed, conversation view and replies.
import { api, ApiError, csrfToken, liveSocket, setCsrf } from "./api.js";
import { applyI18n, onLangChange, t, toggleLang } from "./i18n.js";
import { preview, renderContent } from "./content.js";
import { setupAdmin } from "./admin.js";
import { setupAccounts } from "./accounts.js";
import { setupKb } from "./kb.js";
import { setupRouting } from "./routing.js";
import { setupTransfer } from "./transfer.js";
import { hide360, onMerge, setup360, show360 } from "./customer360.js";
import { setupDashboard } from "./dashboard.js";
import { setupIntegrations } from "./integrations.js";
import { el, elT, fmtTime, showError } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
// `pos` is the change-feed position seen last: after a reconnect (to any node) the workbench
// asks for what happened since. `convPos` keeps each conversation's newest position, so an
// older event arriving late never overwrites a newer state. `messages` keeps the open
// conversation's messages as last shown, to render them again after a language switch.
const state = {
  me: null, scope: "mine", list: new Map(), listLoads: 0, opens: 0, current: null, feed: null, groups: [],
  pos: null, convPos: new Map(), messages: new Map(),
};

// ---- login ----

async function boot() {
  applyI18n();
  for (const b of document.querySelectorAll(".lang-toggle")) b.onclick = toggleLang;
  onLangChange(rerender);
  $("#login-form").onsubmit = login;
  $("#logout").onclick = logout;
  $("#me-status").onchange = (e) => api("PUT", "/me/status", { status: e.target.value });
  for (const tab of document.querySelectorAll(".tab")) tab.onclick = () => selectScope(tab.dataset.scope);
  $("#composer").onsubmit = sendReply;
  $("#composer-text").onkeydown = (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendReply(e);
    }
  };
  $("#claim-conversation").onclick = () => act("claim");
  $("#composer-attach").onclick = () => $("#composer-image").click();
  $("#composer-image").onchange = sendImage;
  $("#close-conversation").onclick = () => confirm(t("conv.confirm_close")) && act("close");
  try {
    start(await api("GET", "/me"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin();
    else throw e;
  }
}

function showLogin() {
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  $("#login-username").focus();
}

async function login(e) {
  e.preventDefault();
  $("#login-error").replaceChildren();
  try {
    const me = await api("POST", "/auth/login", {
      username: $("#login-username").value,
      password: $("#login-password").value,
    });
    start(me);
  } catch (err) {
    $("#login-error").replaceChildren(elT("span", null, err.status === 429 ? "login.throttled" : "login.failed"));
  }
}

async function logout() {
  await api("POST", "/auth/logout");
  state.feed?.stop();
  location.reload();
}

function start(me) {
  state.me = { ...me.agent, password_expired: !!me.password_expired };
  setCsrf(me.csrf_token);
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#me-name").textContent = me.agent.display_name;
  $("#me-status").value = me.agent.status;
  const supervisor = me.agent.role !== "agent";
  for (const x of document.querySelectorAll(".supervisor-only")) x.hidden = !supervisor;
  setupAdmin(me.agent.role === "admin", showAdmin);
  setupKb(supervisor, showKb);
  setupRouting(supervisor, showRouting);
  setupTransfer(() => state.current, closeView);
  setup360(supervisor);
  setupDashboard(supervisor, showDash);
  setupIntegrations(me.agent.role === "admin", showIntegrations);
  setupAccounts(state.me, me.agent.role === "admin", showAccounts, showMine);
  if (me.password_expired) {
    // Nothing else works until a new password is set; then the page starts over.
    $("#open-mine").click();
    $("#mine-error").replaceChildren(elT("span", null, "acct.expired"));
    return;
  }
  api("GET", "/groups").then((g) => { state.groups = g; });
  state.feed = liveSocket("/api/ws", {
    onMessage: onEvent,
    onOpen: () => { $("#feed-status").hidden = true; },
    onDown: () => { $("#feed-status").hidden = false; },
    // An admin disabled the account or ended its sessions: back to the login form.
    onSignedOut: () => location.reload(),
  });
}

// ---- conversation list ----

function selectScope(scope) {
  state.scope = scope;
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.scope === scope);
  loadList();
}

function listQuery() {
  if (state.scope === "closed") return "/conversations?state=closed&scope=all";
  if (state.scope === "leave") return "/conversations?state=leave_message";
  return `/conversations?scope=${state.scope}`;
}

// Loads can overlap (a tab click while the feed's reconnect reloads): only the newest may
// fill the list, or a slow answer for the previous tab would replace the current one.
async function loadList() {
  const mine = ++state.listLoads;
  const rows = await api("GET", listQuery());
  if (mine !== state.listLoads) return;
  state.list = new Map(rows.map((r) => [r.id, r]));
  renderList();
}

function inScope(c) {
  if (state.scope === "closed") return c.state === "closed";
  if (state.scope === "leave") return c.state === "leave_message";
  if (c.state === "closed") return false;
  return state.scope === "all" || c.agent == null || c.agent === state.me.id;
}

function renderList() {
  const ul = $("#conversation-list");
  ul.replaceChildren();
  const rows = [...state.list.values()].filter(inScope).sort((a, b) => b.updated_at - a.updated_at);
  for (const c of rows) {
    const li = el("li", "conv-item");
    li.dataset.id = c.id;
    li.classList.toggle("active", c.id === state.current?.conversation.id);
    const row = el("div", "row");
    row.append(el("span", "name", c.customer_name ?? `#${c.id}`), el("span", `badge ${c.state}`, t(`state.${c.state}`)));
    const last = c.last_content ? preview(c.last_content) : c.last_message ?? "";
    li.append(row, el("span", "last", last), el("span", "muted", c.channel_name ?? ""));
    li.onclick = () => openConversation(c.id);
    ul.append(li);
  }
  $("#list-empty").hidden = rows.length > 0;
}

// ---- live events ----

/** The feed's first frame: the position it streams from. A first connection loads the
 *  list; a reconnection asks only for what it missed since the last position seen. */
async function onHello(pos) {
  const since = state.pos;
  state.pos = Math.max(state.pos ?? 0, pos);
  if (since === null) return loadList();
  const caught = await api("GET", `/feed?after=${since}`);
  if (!caught.complete) return resync();
  for (const ev of caught.events) onEvent(ev);
  state.pos = Math.max(state.pos, caught.pos);
  reloadCurrent(); // delivery statuses of the open conversation are not in the feed
}

function resync() {
  loadList();
  reloadCurrent();
}

/** Whether an event about a conversation is older than what the workbench already shows. */
function stale(ev) {
  const id = ev.conversation?.id;
  if (!id || ev.pos === undefined) return false;
  if ((state.convPos.get(id) ?? -1) > ev.pos) return true;
  state.convPos.set(id, ev.pos);
  return false;
}

function onEvent(ev) {
  if (ev.type === "hello") return onHello(ev.pos);
  if (ev.type === "pong") return; // the answer to the heartbeat: nothing changed
  if (ev.pos !== undefined && state.pos !== null) state.pos = Math.max(state.pos, ev.pos);
  if (ev.type === "resync") return resync();
  if (ev.type === "conversation_hidden") {
    state.list.delete(ev.id);
    renderList();
    if (state.current?.conversation.id === ev.id) closeView();
    return;
  }
  if (stale(ev)) {
    if (ev.type === "message_created" && ev.message.conversation_id === state.current?.conversation.id) upsertMessage(ev.message);
    return;
  }
  if (ev.type === "customer_merged") {
    onMerge(ev.merge);
    return;
  }
  const conv = ev.conversation;
  if (conv) {
    const known = state.list.get(conv.id);
    // The newest message's content is kept, not its preview, so a language switch can redo it.
    const last = ev.type === "message_created" ? ev.message.content : known?.last_content;
    if (known) state.list.set(conv.id, { ...known, ...conv, last_message: known.last_message, last_content: last });
    else loadList();
  }
  renderList();
  const open = state.current?.conversation.id;
  if (ev.type === "message_created" && ev.message.conversation_id === open) upsertMessage(ev.message);
  if (ev.type === "message_updated" && ev.message.conversation_id === open) upsertMessage(ev.message);
  if (ev.type === "conversation_updated" && conv.id === open) {
    state.current.conversation = conv;
    renderHead();
    renderInfo();
  }
}

// ---- conversation view ----

async function openConversation(id) {
  const mine = ++state.opens;
  const [detail, messages] = await Promise.all([
    api("GET", `/conversations/${id}`),
    api("GET", `/conversations/${id}/messages?limit=100`),
  ]);
  if (mine !== state.opens) return; // another conversation was opened meanwhile
  state.current = detail;
  $("#no-conversation").hidden = true;
  $("#conversation").hidden = false;
  $("#messages").replaceChildren();
  state.messages = new Map();
  for (const m of messages) upsertMessage(m);
  renderHead();
  renderInfo();
  show360(detail);
  renderList();
  $("#composer-text").focus();
}

// After handing a conversation on, the view closes: it is someone else's now.
function closeView() {
  state.current = null;
  state.messages = new Map();
  $("#conversation").hidden = true;
  $("#no-conversation").hidden = false;
  $("#customer-info").replaceChildren();
  hide360();
  loadList();
}

function reloadCurrent() {
  if (state.current) openConversation(state.current.conversation.id);
}

function renderHead() {
  const { conversation: c, customer } = state.current;
  $("#conv-title").textContent = customer.display_name;
  const badge = $("#conv-state");
  badge.className = `badge ${c.state}`;
  badge.textContent = t(`state.${c.state}`);
  const closed = c.state === "closed";
  $("#claim-conversation").hidden = closed || c.state === "assigned";
  $("#transfer-conversation").hidden = closed;
  $("#close-conversation").hidden = closed;
  $("#composer-text").disabled = closed;
  $("#composer-send").disabled = closed;
  const hint = closed ? "conv.closed" : "composer.placeholder";
  $("#composer-text").dataset.i18nPlaceholder = hint;
  $("#composer-text").placeholder = t(hint);
}

function renderInfo() {
  const { customer, identity, channel } = state.current;
  const dl = $("#customer-info");
  dl.replaceChildren();
  const rows = [
    ["customer.channel", `${channel.name} (${channel.kind})`],
    ["customer.external_id", identity.external_id],
    ["customer.since", fmtTime(customer.created_at)],
  ];
  const c = state.current.conversation;
  const group = state.groups.find((g) => g.id === c.group);
  if (group) rows.push(["customer.group", group.name]);
  if (c.satisfaction) rows.push(["customer.satisfaction", `${"★".repeat(c.satisfaction)}${"☆".repeat(5 - c.satisfaction)} (${c.satisfaction})`]);
  for (const [k, v] of rows) dl.append(el("dt", null, t(k)), el("dd", null, v));
}

function senderLabel(m) {
  const s = m.sender;
  if (s.kind === "agent") return s.id === state.me.id ? state.me.display_name : t("sender.agent");
  return t(`sender.${s.kind}`);
}

function deliveryText(m) {
  if (m.status === "pending" && m.error) return `${t("delivery.retrying")}: ${m.error}`;
  if (m.status === "failed") return `${t("delivery.failed")}: ${m.error ?? ""}`;
  return t(`delivery.${m.status}`);
}

// Delivery only moves forward: a late "sent" never replaces "delivered".
const RANK = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4, received: 0 };

function upsertMessage(m) {
  const list = $("#messages");
  let li = list.querySelector(`[data-id="${m.id}"]`);
  if (li && RANK[li.dataset.status] > RANK[m.status]) return;
  const fresh = !li;
  state.messages.set(m.id, m);
  if (fresh) li = el("li");
  li.className = `msg ${m.direction}`;
  li.dataset.id = m.id;
  li.dataset.status = m.status;
  const meta = el("span", "meta", `${senderLabel(m)} · ${fmtTime(m.created_at)}`);
  const bubble = el("div", "bubble");
  bubble.append(renderContent(m.content, m.id));
  li.replaceChildren(meta, bubble);
  if (m.direction === "outbound") li.append(el("span", `meta delivery ${m.status}`, deliveryText(m)));
  if (m.direction === "internal") meta.textContent = `${t("note.internal")} · ${fmtTime(m.created_at)}`;
  if (fresh) {
    const next = [...list.children].find((x) => Number(x.dataset.id) > m.id);
    list.insertBefore(li, next ?? null);
    list.scrollTop = list.scrollHeight;
  }
}

async function sendReply(e) {
  e.preventDefault();
  const box = $("#composer-text");
  const text = box.value;
  if (!text.trim() || !state.current) return;
  $("#composer-error").textContent = "";
  const id = state.current.conversation.id;
  try {
    const msg = await api("POST", `/conversations/${id}/messages`, { text, client_id: crypto.randomUUID() });
    box.value = "";
    upsertMessage(msg);
  } catch (err) {
    showError($("#composer-error"), err);
  }
}

function showPane(id, on) {
  const panes = ["#admin-pane", "#kb-pane", "#routing-pane", "#dash-pane", "#integrations-pane", "#accounts-pane", "#mine-pane"];
  for (const p of panes) $(p).hidden = true;
  $(id).hidden = !on;
  document.querySelector(".chat-pane").hidden = on;
}

const showAdmin = (on) => showPane("#admin-pane", on);
const showKb = (on) => showPane("#kb-pane", on);
const showRouting = (on) => showPane("#routing-pane", on);
const showDash = (on) => showPane("#dash-pane", on);
const showIntegrations = (on) => showPane("#integrations-pane", on);
const showAccounts = (on) => showPane("#accounts-pane", on);
const showMine = (on) => showPane("#mine-pane", on);

async function sendImage(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file || !state.current) return;
  $("#composer-error").textContent = "";
  try {
    const res = await fetch("/api/media", {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken(), "X-Filename": encodeURIComponent(file.name) },
      body: file,
      credentials: "same-origin",
    });
    const info = await res.json();
    if (!res.ok) throw new Error(info.message);
    const id = state.current.conversation.id;
    upsertMessage(await api("POST", `/conversations/${id}/messages`, { image: info.url, client_id: crypto.randomUUID() }));
  } catch (err) {
    showError($("#composer-error"), err);
  }
}

async function act(action) {
  $("#composer-error").textContent = "";
  try {
    state.current.conversation = await api("POST", `/conversations/${state.current.conversation.id}/${action}`);
    renderHead();
    loadList();
  } catch (err) {
    showError($("#composer-error"), err);
  }
}

/** After a language switch: everything this page rendered itself, from the data it holds. */
function rerender() {
  if (!state.me || state.me.password_expired) return; // the login form, or only My account in use
  renderList();
  if (state.current) {
    renderHead();
    renderInfo();
    for (const m of state.messages.values()) upsertMessage(m);
  }
}

boot();
