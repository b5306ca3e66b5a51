// The knowledge-base page: entries, import/export, trying the bot, and reviewing mined FAQs.
import { api, csrfToken } from "./api.js";
import { t } from "./i18n.js";
import { button, el } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
let entries = [];

async function load() {
  const q = encodeURIComponent($("#kb-search").value.trim());
  entries = await api("GET", `/kb/entries?q=${q}`);
  const rows = entries.map((e) => {
    const tr = el("tr");
    tr.dataset.id = e.id;
    const actions = el("td");
    actions.append(button(t("kb.edit_button"), "link", () => edit(e)), button(t("kb.delete"), "link", () => remove(e)));
    tr.append(el("td", null, e.id), el("td", null, e.question), el("td", null, String(e.similar.length)),
      el("td", null, e.group ?? ""), actions);
    if (!e.enabled) tr.classList.add("muted");
    return tr;
  });
  $("#kb-rows").replaceChildren(...rows);
}

function edit(e) {
  const f = $("#kb-form");
  f.id.value = e.id;
  f.question.value = e.question;
  f.similar.value = e.similar.join("\n");
  f.answer.value = e.answer;
  f.group.value = e.group ?? "";
  f.enabled.checked = e.enabled;
  f.question.focus();
}

async function remove(e) {
  if (!confirm(t("kb.confirm_delete"))) return;
  await api("DELETE", `/kb/entries/${encodeURIComponent(e.id)}`);
  load();
}

async function save(ev) {
  ev.preventDefault();
  const f = ev.target;
  $("#kb-error").textContent = "";
  const entry = {
    id: f.id.value,
    question: f.question.value,
    similar: f.similar.value.split("\n").map((s) => s.trim()).filter(Boolean),
    answer: f.answer.value,
    group: f.group.value.trim() || null,
    enabled: f.enabled.checked,
  };
  try {
    if (entry.id) await api("PUT", `/kb/entries/${encodeURIComponent(entry.id)}`, entry);
    else await api("POST", "/kb/entries", entry);
    f.reset();
    f.id.value = "";
    load();
  } catch (err) {
    $("#kb-error").textContent = err.message;
  }
}

async function upload(path, file) {
  const res = await fetch(`/api${path}`, {
    method: "POST",
    headers: { "X-CSRF-Token": csrfToken() },
    body: file,
    credentials: "same-origin",
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.message);
  return body;
}

async function importFile(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const format = file.name.split(".").pop().toLowerCase();
  const box = $("#kb-report");
  box.hidden = false;
  try {
    const r = await upload(`/kb/import?format=${format}`, file);
    const ul = el("ul");
    for (const err of r.errors) ul.append(el("li", "fail", `${t("kb.row").replace("{row}", err.row)}：${err.message}`));
    box.replaceChildren(el("strong", null, `${t("kb.imported")} ${r.imported}`), ul);
    load();
  } catch (err) {
    box.replaceChildren(el("p", "error", err.message));
  }
}

async function tryIt() {
  const text = $("#kb-try-text").value;
  if (!text.trim()) return;
  const r = await api("POST", "/kb/try", { text });
  const items = r.hits.map((h) => el("li", null, `${h.question}（${h.entry_id}）置信度 ${h.confidence.toFixed(2)}`));
  $("#kb-try-result").replaceChildren(...items, el("li", "muted", t(`kb.decision.${r.decision}`)));
}

async function loadCandidates() {
  const list = await api("GET", "/kb/candidates");
  $("#kb-candidates").replaceChildren(
    ...list.map((c) => {
      const li = el("li");
      li.append(el("strong", null, c.question), el("span", "muted", `${t("kb.support")}: ${c.support}`),
        el("span", "muted", c.similar.join(" / ")), el("p", null, c.answer));
      const accept = button(t("kb.accept"), null, async () => { await api("POST", `/kb/candidates/${c.id}/accept`, {}); loadCandidates(); load(); });
      const reject = button(t("kb.reject"), "secondary", async () => { await api("POST", `/kb/candidates/${c.id}/reject`); loadCandidates(); });
      const row = el("div", "row-buttons");
      row.append(accept, reject);
      li.append(row);
      return li;
    }),
  );
}

async function mine(file) {
  const box = $("#kb-report");
  box.hidden = false;
  try {
    const r = file ? await upload("/kb/mine", file) : await api("POST", "/kb/mine");
    box.replaceChildren(el("strong", null, `${t("kb.proposed")}: ${r.proposed}`));
    loadCandidates();
  } catch (err) {
    box.replaceChildren(el("p", "error", err.message));
  }
}

export function setupKb(isSupervisor, showPane) {
  if (!isSupervisor) return;
  $("#open-kb").onclick = () => {
    showPane(true);
    load();
    loadCandidates();
  };
  $("#close-kb").onclick = () => showPane(false);
  $("#kb-search").oninput = () => load();
  $("#kb-form").onsubmit = save;
  $("#kb-import-button").onclick = () => $("#kb-import-file").click();
  $("#kb-import-file").onchange = importFile;
  $("#kb-try").onclick = tryIt;
  $("#kb-mine").onclick = () => mine(null);
  $("#kb-mine-log-button").onclick = () => $("#kb-mine-log").click();
  $("#kb-mine-log").onchange = (e) => {
    const f = e.target.files[0];
    e.target.value = "";
    if (f) mine(f);
  };
}
