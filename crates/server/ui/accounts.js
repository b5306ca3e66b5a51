// Accounts: the admin's page (create, edit, disable and re-enable, reset a password, force
// log-out) and everyone's own account (display name, password). The server enforces every
// rule (one admin always left); this page shows its answers.
import { api, upload } from "./api.js";
import { applyI18n, onLangChange, t } from "./i18n.js";
import { button, el, elT, fmtTime, guarded } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
let groups = [];
// The lists as last shown, to render them again after a language switch.
let accounts = null;
let sessions = null;
let imported = null;

function groupBoxes(selected) {
  const box = $("#account-groups");
  box.replaceChildren(
    ...groups.map((g) => {
      const label = el("label", "inline");
      const input = el("input");
      input.type = "checkbox";
      input.value = g.id;
      input.checked = selected.includes(g.id);
      label.append(input, el("span", null, g.name));
      return label;
    }),
  );
}

/** The avatar fields of a form: an upload sets the hidden `avatar` URL, Remove clears it. */
function setAvatar(f, url, initial) {
  f.avatar.value = url ?? "";
  if (initial) f.avatar.dataset.initial = f.avatar.value;
  const img = f.querySelector(".avatar-preview");
  img.hidden = !f.avatar.value;
  if (f.avatar.value) img.src = f.avatar.value;
  else img.removeAttribute("src");
}

function avatarPicker(f, errorBox) {
  const fields = $("#avatar-picker").content.cloneNode(true);
  applyI18n(fields);
  f.querySelector(".avatar-slot").replaceWith(fields);
  f.avatar_file.onchange = async () => {
    const file = f.avatar_file.files[0];
    f.avatar_file.value = "";
    if (!file) return;
    await guarded(errorBox, async () => setAvatar(f, (await upload("/media", file)).url));
  };
  f.querySelector(".avatar-clear").onclick = () => setAvatar(f, "");
}

/** The avatar to send: only when it changed (`""` removes it). */
function avatarChange(f) {
  return f.avatar.value !== (f.avatar.dataset.initial ?? "") ? f.avatar.value : undefined;
}

function fill(a) {
  const f = $("#account-form");
  f.reset();
  f.id.value = a?.id ?? "";
  f.username.value = a?.username ?? "";
  f.username.readOnly = !!a;
  f.display_name.value = a?.display_name ?? "";
  f.role.value = a?.role ?? "agent";
  f.capacity.value = a?.capacity ?? 5;
  f.password.required = !a;
  setAvatar(f, a?.avatar, true);
  const title = $("#account-form-title");
  title.dataset.i18n = a ? "acct.edit" : "acct.new";
  title.textContent = t(title.dataset.i18n);
  groupBoxes(a?.skill_groups ?? []);
  (a ? f.display_name : f.username).focus();
}

/** A one-time password the admin passes on; shown once, never stored in the page. */
function randomPassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function act(fn) {
  await guarded($("#account-error"), async () => {
    await fn();
    await load();
  });
}

function row(a) {
  const tr = el("tr");
  tr.dataset.username = a.username;
  const names = groups.filter((g) => a.skill_groups.includes(g.id)).map((g) => g.name).join(t("fmt.list_sep"));
  const state = a.disabled ? t("acct.disabled") : t(`status.${a.status}`);
  const actions = el("td", "row-buttons");
  actions.append(
    button(t("kb.edit_button"), "secondary acct-edit", () => fill(a)),
    button(a.disabled ? t("acct.enable") : t("acct.disable"), "secondary acct-toggle", () =>
      act(() => api("PUT", `/agents/${a.id}`, { disabled: !a.disabled }))),
    button(t("acct.reset"), "secondary acct-reset", () =>
      act(async () => {
        const password = randomPassword();
        await api("PUT", `/agents/${a.id}`, { password });
        $("#account-secret").hidden = false;
        $("#account-secret").replaceChildren(elT("span", null, "acct.new_password"), ` ${a.username}: ${password}`);
      })),
    button(t("acct.logout"), "secondary acct-logout", () => act(() => api("POST", `/agents/${a.id}/logout`))),
  );
  tr.append(
    el("td", null, a.username),
    el("td", null, a.display_name),
    el("td", null, t(`role.${a.role}`)),
    el("td", null, names),
    el("td", null, String(a.capacity)),
    el("td", a.disabled ? "muted" : null, state),
    actions,
  );
  return tr;
}

async function load() {
  groups = await api("GET", "/groups");
  accounts = await api("GET", "/agents");
  renderAccounts();
}

function renderAccounts() {
  if (accounts) $("#account-rows").replaceChildren(...accounts.map(row));
}

/** Shows the import's answer: the accounts created (with generated passwords) or the rows
 *  to fix. Kept so a language switch renders it again. */
function renderImport() {
  const box = $("#account-import-report");
  if (!imported) return;
  box.hidden = false;
  const list = el("ul");
  if (imported.errors?.length) {
    list.append(...imported.errors.map((e) => el("li", "fail", `${t("kb.row", { row: e.row })}: ${e.message}`)));
    box.replaceChildren(elT("p", "error", "acct.import_failed"), list);
  } else {
    list.append(...imported.created.map((a) => el("li", "ok", `${a.username} (${a.display_name}): ${a.password ?? t("acct.password_set")}`)));
    box.replaceChildren(el("p", null, t("acct.imported", { n: imported.created.length })), list);
  }
}

async function importFile(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const format = file.name.toLowerCase().endsWith(".xlsx") ? "xlsx" : "csv";
  await guarded($("#account-error"), async () => {
    try {
      imported = await upload(`/agents/import?format=${format}`, file);
    } catch (err) {
      if (!err.body?.errors) throw err;
      imported = err.body;
    }
    renderImport();
    $("#account-import-report").focus();
    await load();
  });
}

async function save(e) {
  e.preventDefault();
  const f = e.target;
  const body = {
    display_name: f.display_name.value.trim(),
    role: f.role.value,
    capacity: Number(f.capacity.value),
    groups: [...$("#account-groups").querySelectorAll("input:checked")].map((b) => Number(b.value)),
  };
  if (f.password.value) body.password = f.password.value;
  const avatar = avatarChange(f);
  await guarded($("#account-error"), async () => {
    if (f.id.value) await api("PUT", `/agents/${f.id.value}`, { ...body, avatar });
    else {
      const made = await api("POST", "/agents", { ...body, username: f.username.value.trim() });
      if (avatar) await api("PUT", `/agents/${made.id}`, { avatar });
    }
    fill(null);
    await load();
  });
}

async function saveMine(e, me) {
  e.preventDefault();
  const f = e.target;
  const box = $("#mine-error");
  box.className = "error";
  await guarded(box, async () => {
    const avatar = avatarChange(f);
    if ((f.display_name.value.trim() !== me.display_name || avatar !== undefined) && !me.password_expired) {
      const a = await api("PUT", "/me", { display_name: f.display_name.value.trim(), avatar });
      me.display_name = a.display_name;
      me.avatar = a.avatar;
      setAvatar(f, a.avatar, true);
      $("#me-name").textContent = a.display_name;
    }
    if (f.new_password.value) {
      await api("PUT", "/me/password", { current_password: f.current_password.value, new_password: f.new_password.value });
      f.current_password.value = "";
      f.new_password.value = "";
      // A session held back by an expired password is free now: start the workbench.
      if (me.password_expired) location.reload();
    }
    box.className = "ok";
    box.replaceChildren(elT("span", null, "acct.saved"));
  });
}

/** Where one is logged in; any session but this one can be ended here (this one: Sign out). */
async function loadSessions() {
  sessions = await api("GET", "/me/sessions");
  renderSessions();
}

function renderSessions() {
  if (!sessions) return;
  $("#session-rows").replaceChildren(
    ...sessions.map((s) => {
      const tr = el("tr");
      const action = el("td");
      if (s.current) action.append(el("span", "muted", t("acct.this_session")));
      else action.append(button(t("acct.end_session"), "secondary end-session", async () => {
        await guarded($("#mine-error"), () => api("DELETE", `/me/sessions/${s.id}`));
        await loadSessions();
      }));
      tr.append(el("td", null, fmtTime(s.created_at)), el("td", null, s.client_ip ?? ""), el("td", "ua", s.user_agent ?? ""), action);
      return tr;
    }),
  );
}

export function setupAccounts(me, isAdmin, showAccounts, showMine) {
  onLangChange(() => {
    renderAccounts();
    renderSessions();
    renderImport();
  });
  $("#open-mine").onclick = () => {
    showMine(true);
    if (!me.password_expired) loadSessions();
    const f = $("#mine-form");
    f.display_name.value = me.display_name;
    setAvatar(f, me.avatar, true);
    $("#mine-error").textContent = "";
    f.display_name.focus();
  };
  $("#close-mine").onclick = () => showMine(false);
  $("#mine-form").onsubmit = (e) => saveMine(e, me);
  avatarPicker($("#mine-form"), $("#mine-error"));
  if (!isAdmin) return;
  $("#open-accounts").onclick = async () => {
    showAccounts(true);
    $("#account-secret").hidden = true;
    await load();
    fill(null);
  };
  $("#close-accounts").onclick = () => showAccounts(false);
  $("#account-form").onsubmit = save;
  avatarPicker($("#account-form"), $("#account-error"));
  $("#account-new").onclick = () => fill(null);
  $("#account-import-button").onclick = () => $("#account-import-file").click();
  $("#account-import-file").onchange = importFile;
}
