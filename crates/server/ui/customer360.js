// Customer 360 beside the chat: every identity of the person on every channel (OneID), phone
// and UnionID conflicts, tags and notes, merges with their audit trail (supervisors can merge
// and undo), and the whole cross-channel history, newest first, a page at a time.
import { api } from "./api.js";
import { onLangChange, t } from "./i18n.js";
import { preview } from "./content.js";
import { button, el, fmtTime as fmt, guarded as guard } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
const PAGE = 20;
// `gen` counts loads: a newer one (another conversation opened, a merge) makes older ones stop.
// `view`, `history` and `found` are what is shown, to render it again after a language switch.
const ctx = {
  customer: null, conversation: null, supervisor: false, oldest: null, channels: new Map(), gen: 0,
  view: null, history: [], found: [],
};

// Tags are separated by commas (ASCII or full-width), the enumeration comma, or spaces.
const list = (s) => s.split(/[,\uFF0C\u3001\s]+/).map((x) => x.trim()).filter(Boolean);

const guarded = (fn) => guard($("#c360-error"), fn);

function renderIdentities(v) {
  ctx.channels = new Map(v.identities.map((i) => [i.channel_id, i.channel_name]));
  $("#c360-identities").replaceChildren(...v.identities.map((i) => {
    const li = el("li", "c360-identity");
    li.append(el("strong", null, i.channel_name), el("span", "muted", ` ${i.external_id}`));
    if (i.phone) {
      const phone = `${t("c360.phone")} ${i.phone}`;
      const text = i.phone_verified ? phone : t("fmt.paren", { main: phone, extra: t("c360.unverified") });
      li.append(el("span", i.phone_verified ? "chip" : "chip warn", text));
    }
    if (i.union_id) li.append(el("span", "chip", `UnionID ${i.union_id}`));
    return li;
  }));
  const maybe = v.possible_matches ?? [];
  $("#c360-maybe").hidden = !maybe.length;
  $("#c360-maybe-list").replaceChildren(...maybe.map((m) => {
    const li = el("li", null, `#${m.customer} ${m.display_name} · ${t("c360.maybe_phone")} ${m.phone} `);
    if (ctx.supervisor) li.append(button(t("c360.merge"), "secondary", () => merge(m.customer)));
    return li;
  }));
  const conflict = $("#c360-conflicts");
  conflict.hidden = !v.conflicts.length;
  conflict.textContent = v.conflicts.length ? `${t("c360.conflict")}: ${v.phones.join(" / ")}` : "";
}

function renderMerges(v) {
  $("#c360-merges").replaceChildren(...v.merges.map((m) => {
    const li = el("li", m.undone_at ? "undone" : null);
    const who = m.by ? t("c360.by_agent") : t("c360.auto");
    const what = t("fmt.paren", { main: `#${m.merged} → #${m.survivor}`, extra: m.reason });
    li.append(el("span", null, t("fmt.label", { label: `${fmt(m.at)} ${who}`, value: what })));
    if (m.undone_at) li.append(el("span", "muted", ` ${t("fmt.label", { label: t("c360.undone"), value: m.undo_reason })}`));
    else if (ctx.supervisor) li.append(button(t("c360.unmerge"), "link", () => unmerge(m.id)));
    return li;
  }));
}

function renderNotes(v) {
  $("#c360-notes").replaceChildren(...v.notes.map((n) => el("li", null, `${fmt(n.at)} ${n.text}`)));
}

function historyItem(m) {
  const li = el("li", `c360-msg ${m.direction}`);
  li.dataset.conversation = m.conversation_id;
  li.append(el("span", "muted", `${fmt(m.created_at)} · ${ctx.channels.get(m.channel_id) ?? ""}`), el("div", null, preview(m.content)));
  return li;
}

function renderFound() {
  $("#c360-merge-results").replaceChildren(...ctx.found.map((c) => {
    const li = el("li", null, `#${c.id} ${c.display_name} `);
    li.append(button(t("c360.merge"), "secondary", () => merge(c.id)));
    return li;
  }));
}

/** After a language switch: the same customer, from the data already loaded. */
function rerender() {
  if (!ctx.customer || !ctx.view) return;
  renderIdentities(ctx.view);
  renderNotes(ctx.view);
  renderMerges(ctx.view);
  $("#c360-history").replaceChildren(...ctx.history.map(historyItem));
  renderFound();
}

async function unmerge(id) {
  const text = prompt(t("c360.unmerge_reason"));
  if (!text) return;
  await guarded(() => api("POST", `/merges/${id}/undo`, { text }));
  await load();
}

async function load() {
  const gen = ++ctx.gen;
  const v = await api("GET", `/customers/${ctx.customer}`);
  if (gen !== ctx.gen) return;
  if (v.merged_into) {
    ctx.customer = v.merged_into;
    return load();
  }
  ctx.view = v;
  renderIdentities(v);
  $("#c360-tags").value = v.tags.join(t("fmt.comma"));
  renderNotes(v);
  renderMerges(v);
  ctx.oldest = null;
  ctx.history = [];
  $("#c360-history").replaceChildren();
  await more(gen);
}

async function more(gen = ctx.gen) {
  const before = ctx.oldest ? `&before=${ctx.oldest}` : "";
  const page = await api("GET", `/customers/${ctx.customer}/messages?limit=${PAGE}${before}`);
  if (gen !== ctx.gen) return;
  for (const m of page) {
    if (m.direction === "internal") continue;
    ctx.history.push(m);
    $("#c360-history").append(historyItem(m));
  }
  if (page.length) ctx.oldest = page[page.length - 1].id;
  $("#c360-more").hidden = page.length < PAGE;
}

async function search(e) {
  e.preventDefault();
  const q = $("#c360-merge-q").value.trim();
  if (!q) return;
  const found = await api("GET", `/customers?q=${encodeURIComponent(q)}`);
  ctx.found = found.filter((c) => c.id !== ctx.customer);
  renderFound();
}

async function merge(other) {
  const reason = prompt(t("c360.merge_reason"));
  if (!reason) return;
  await guarded(() => api("POST", `/customers/${ctx.customer}/merge`, { other, reason }));
  ctx.found = [];
  renderFound();
  await load();
}

export function setup360(supervisor) {
  ctx.supervisor = supervisor;
  onLangChange(rerender);
  $("#c360-merge-form").hidden = !supervisor;
  $("#c360-more").onclick = () => guarded(() => more());
  $("#c360-merge-form").onsubmit = (e) => guarded(() => search(e));
  $("#c360-ask-phone").onclick = () => guarded(() => api("POST", `/conversations/${ctx.conversation}/ask-phone`, {}));
  $("#c360-tags-form").onsubmit = (e) => {
    e.preventDefault();
    guarded(() => api("PUT", `/customers/${ctx.customer}/tags`, { tags: list($("#c360-tags").value) }));
  };
  $("#c360-conv-tags-form").onsubmit = (e) => {
    e.preventDefault();
    guarded(() => api("PUT", `/conversations/${ctx.conversation}/tags`, { tags: list($("#c360-conv-tags").value) }));
  };
  $("#c360-note-form").onsubmit = (e) => {
    e.preventDefault();
    const text = $("#c360-note").value.trim();
    if (!text) return;
    guarded(async () => {
      await api("POST", `/customers/${ctx.customer}/notes`, { text });
      $("#c360-note").value = "";
      await load();
    });
  };
}

/** Shows the customer of an opened conversation (`detail` from GET /conversations/{id}). */
export function show360(detail) {
  ctx.customer = detail.conversation.customer_id;
  ctx.conversation = detail.conversation.id;
  ctx.view = null;
  ctx.history = [];
  $("#c360").hidden = false;
  $("#c360-conv-tags").value = (detail.tags ?? []).join(t("fmt.comma"));
  guarded(load);
}

export function hide360() {
  ctx.customer = null;
  ctx.view = null;
  $("#c360").hidden = true;
}

/** A merge anywhere may concern the open customer. */
export function onMerge(merge) {
  if (ctx.customer && [merge.survivor, merge.merged].includes(ctx.customer)) guarded(load);
}
