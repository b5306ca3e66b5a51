// The administrator's data-API page: API keys with scopes (the key is shown once), outbound
// webhooks (the signing secret is shown once), and each webhook's delivery log.
import { api } from "./api.js";
import { has, onLangChange, t } from "./i18n.js";
import { button, el, elT, fmtTime, guarded as guard } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
// The lists as last shown, to render them again after a language switch.
const shown = { keys: null, hooks: null, deliveries: null };
const SCOPES = ["conversations:read", "messages:read", "customers:read", "changes:read", "export"];

const guarded = (fn) => guard($("#int-error"), fn);

function once(labelKey, secret) {
  const box = $("#int-once");
  box.hidden = false;
  box.replaceChildren(elT("strong", null, labelKey), el("code", "secret-once", secret));
}

function checks(box, names, name) {
  box.replaceChildren(...names.map((n) => {
    const l = el("label", "inline");
    const c = el("input");
    Object.assign(c, { type: "checkbox", name, value: n });
    l.append(c, el("span", null, ` ${n}`));
    return l;
  }));
}

const checked = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => c.value);

function keyRow(k) {
  const tr = el("tr");
  const actions = el("td");
  if (k.revoked_at) actions.append(el("span", "muted", t("int.revoked")));
  else actions.append(button(t("int.revoke"), "danger", () => guarded(async () => {
    await api("POST", `/admin/api-keys/${k.id}/revoke`, {});
    await load();
  })));
  tr.append(el("td", null, k.name), el("td", null, k.prefix), el("td", null, k.scopes.join(" ")),
    el("td", null, k.last_used_at ? fmtTime(k.last_used_at) : "—"), actions);
  return tr;
}

function hookRow(h) {
  const tr = el("tr");
  const actions = el("td");
  actions.append(
    button(t("int.log"), "secondary", () => guarded(() => deliveries(h.id))),
    button(h.enabled ? t("int.disable") : t("int.enable"), "link", () => guarded(async () => {
      await api("PUT", `/admin/webhooks/${h.id}`, { url: h.url, events: h.events, enabled: !h.enabled });
      await load();
    })),
  );
  const on = h.enabled ? `✓ ${t("int.yes")}` : `✗ ${t("int.no")}`;
  tr.append(el("td", null, h.url), el("td", null, h.events.join(" ")), el("td", null, on), actions);
  return tr;
}

async function deliveries(id) {
  shown.deliveries = { id, list: await api("GET", `/admin/webhooks/${id}/deliveries`) };
  renderDeliveries();
}

const stateName = (s) => (has(`int.state_${s}`) ? t(`int.state_${s}`) : s);

function renderDeliveries() {
  if (!shown.deliveries) return;
  const { id, list } = shown.deliveries;
  $("#delivery-rows").replaceChildren(...list.map((d) => {
    const tr = el("tr", `delivery ${d.state}`);
    const last = d.last_status ? `HTTP ${d.last_status}` : d.last_error ?? "";
    const actions = el("td");
    if (d.state === "failed") actions.append(button(t("int.redeliver"), "secondary", () => guarded(async () => {
      await api("POST", `/admin/deliveries/${d.id}/redeliver`, {});
      await deliveries(id);
    })));
    tr.append(el("td", null, `evt_${d.change_seq}`), el("td", null, d.kind), el("td", null, stateName(d.state)),
      el("td", null, String(d.attempts)), el("td", null, last), actions);
    return tr;
  }));
}

async function load() {
  const [keys, hooks] = await Promise.all([api("GET", "/admin/api-keys"), api("GET", "/admin/webhooks")]);
  shown.keys = keys;
  shown.hooks = hooks.webhooks;
  renderLists();
  if (!$("#hook-events").children.length) checks($("#hook-events"), hooks.events, "event");
}

function renderLists() {
  if (shown.keys) $("#key-rows").replaceChildren(...shown.keys.map(keyRow));
  if (shown.hooks) $("#hook-rows").replaceChildren(...shown.hooks.map(hookRow));
}

export function setupIntegrations(isAdmin, show) {
  $("#open-integrations").hidden = !isAdmin;
  if (!isAdmin) return;
  onLangChange(() => {
    renderLists();
    renderDeliveries();
  });
  checks($("#key-scopes"), SCOPES, "scope");
  $("#open-integrations").onclick = () => { show(true); guarded(load); };
  $("#close-integrations").onclick = () => show(false);
  $("#key-form").onsubmit = (e) => {
    e.preventDefault();
    const f = e.target;
    guarded(async () => {
      const r = await api("POST", "/admin/api-keys", { name: f.name.value, scopes: checked(f, "scope") });
      once("int.key_once", r.token);
      f.reset();
      await load();
    });
  };
  $("#hook-form").onsubmit = (e) => {
    e.preventDefault();
    const f = e.target;
    guarded(async () => {
      const r = await api("POST", "/admin/webhooks", { url: f.url.value, events: checked(f, "event") });
      once("int.secret_once", r.secret);
      f.reset();
      await load();
    });
  };
}
