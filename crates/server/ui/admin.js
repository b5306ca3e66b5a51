// The administrator's channel page: channels with masked secrets, creation, connectivity test.
import { api } from "./api.js";
import { has, onLangChange, t } from "./i18n.js";
import { el } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
// The channel list and the last test report as shown, to render again after a language switch.
let channels = null;
let report = null;

const kindName = (kind) => (has(`kind.${kind}`) ? t(`kind.${kind}`) : kind);

function secretsText(secrets) {
  return Object.entries(secrets).map(([k, v]) => `${k}: ${v}`).join("\n");
}

async function runTest(ch) {
  const recipient = prompt(t("admin.recipient"));
  if (!recipient) return;
  const box = $("#test-report");
  box.hidden = false;
  box.replaceChildren(el("p", "muted", "…"));
  report = null;
  try {
    report = { ch, r: await api("POST", `/admin/channels/${ch.id}/test`, { recipient }) };
    renderReport();
  } catch (err) {
    box.replaceChildren(el("p", "error", err.message));
  }
}

function renderReport() {
  if (!report) return;
  const { ch, r } = report;
  const ul = el("ul");
  for (const s of r.steps) ul.append(el("li", s.ok ? "ok" : "fail", t("fmt.label", { label: s.name, value: s.detail })));
  $("#test-report").replaceChildren(el("strong", null, `${ch.name} · ${r.ok ? t("admin.report_ok") : t("admin.report_failed")}`), ul);
}

function row(ch) {
  const tr = el("tr");
  tr.dataset.id = ch.id;
  const state = ch.enabled ? t("admin.enabled") : t("admin.disabled");
  const cb = el("td");
  if (ch.callback_url) cb.append(el("code", null, ch.callback_url));
  const actions = el("td");
  if (ch.kind !== "webchat") {
    const b = el("button", "secondary test-channel", t("admin.test"));
    b.type = "button";
    b.onclick = () => runTest(ch);
    actions.append(b);
  }
  const secrets = el("td");
  secrets.append(el("pre", null, secretsText(ch.secrets)));
  tr.append(el("td", null, t("fmt.paren", { main: ch.name, extra: state })), el("td", null, kindName(ch.kind)),
    el("td", null, ch.key), cb, secrets, actions);
  return tr;
}

export async function loadChannels() {
  channels = await api("GET", "/admin/channels");
  renderChannels();
}

function renderChannels() {
  if (channels) $("#channel-rows").replaceChildren(...channels.map(row));
}

async function create(e) {
  e.preventDefault();
  const f = e.target;
  $("#channel-error").textContent = "";
  try {
    await api("POST", "/admin/channels", {
      kind: f.kind.value,
      key: f.key.value,
      name: f.name.value,
      settings: JSON.parse(f.settings.value || "{}"),
      secrets: JSON.parse(f.secrets.value || "{}"),
    });
    f.reset();
    await loadChannels();
  } catch (err) {
    $("#channel-error").textContent = err.message;
  }
}

// Settings and secrets each kind needs, filled in when the kind is picked (the web chat's
// welcome in the admin's language).
const TEMPLATES = {
  wechat_oa: () => [{ app_id: "", mode: "safe" }, { app_secret: "", token: "", encoding_aes_key: "" }],
  wecom: () => [{ corp_id: "", agent_id: "" }, { app_secret: "", token: "", encoding_aes_key: "" }],
  wecom_kf: () => [{ corp_id: "", open_kfid: "" }, { app_secret: "", token: "", encoding_aes_key: "" }],
  dingtalk: () => [{ app_key: "" }, { app_secret: "", event_token: "", event_aes_key: "" }],
  webchat: () => [{ welcome: t("admin.welcome_default") }, {}],
};

function fillTemplate(f) {
  const [settings, secrets] = TEMPLATES[f.kind.value]?.() ?? [{}, {}];
  f.settings.value = JSON.stringify(settings);
  f.secrets.value = JSON.stringify(secrets);
}

export function setupAdmin(isAdmin, showPane) {
  for (const x of document.querySelectorAll(".admin-only")) x.hidden = !isAdmin;
  if (!isAdmin) return;
  onLangChange(() => {
    renderChannels();
    renderReport();
  });
  $("#open-admin").onclick = async () => {
    showPane(true);
    await loadChannels();
  };
  $("#close-admin").onclick = () => showPane(false);
  $("#channel-form").onsubmit = create;
  $("#channel-form").kind.onchange = (e) => fillTemplate(e.target.form);
}
