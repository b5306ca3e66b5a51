// The knowledge-base page: entries, import/export, trying the bot, and reviewing mined FAQs.
import { api, upload } from "./api.js";
import { onLangChange, t } from "./i18n.js";
import { button, el, elT, guarded } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
// What the page shows, kept to render it again after a language switch.
const shown = { entries: [], candidates: [], tried: null, imported: null, mined: null };

async function load() {
  const q = encodeURIComponent($("#kb-search").value.trim());
  shown.entries = await api("GET", `/kb/entries?q=${q}`);
  renderEntries();
}

function renderEntries() {
  const rows = shown.entries.map((e) => {
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

function renderImported() {
  const r = shown.imported;
  if (!r) return;
  const ul = el("ul");
  for (const err of r.errors) {
    ul.append(el("li", "fail", t("fmt.label", { label: t("kb.row", { row: err.row }), value: err.message })));
  }
  $("#kb-report").replaceChildren(el("strong", null, t("fmt.label", { label: t("kb.imported"), value: r.imported })), ul);
}

async function importFile(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const format = file.name.split(".").pop().toLowerCase();
  const box = $("#kb-report");
  box.hidden = false;
  shown.imported = null;
  try {
    shown.imported = await upload(`/kb/import?format=${format}`, file);
    renderImported();
    load();
  } catch (err) {
    // A refused file still names its bad rows.
    if (err.body?.errors?.length) {
      shown.imported = err.body;
      renderImported();
    } else {
      box.replaceChildren(el("p", "error", err.message));
    }
  }
}

/** The bot's hits, best first, then what the bot would do as a line of its own. */
function renderTried() {
  const r = shown.tried;
  if (!r) return;
  const hits = [...r.hits].sort((a, b) => b.confidence - a.confidence);
  const parts = [];
  if (hits.length) {
    const ol = el("ol", "kb-hits");
    ol.setAttribute("aria-label", t("kb.hits"));
    for (const h of hits) {
      ol.append(el("li", null, t("kb.hit", { question: h.question, id: h.entry_id, confidence: h.confidence.toFixed(2) })));
    }
    parts.push(ol);
  } else {
    parts.push(el("p", "muted", t("kb.no_hits")));
  }
  parts.push(el("p", "kb-decision", t(`kb.decision.${r.decision}`)));
  $("#kb-try-result").replaceChildren(...parts);
}

async function tryIt() {
  const text = $("#kb-try-text").value;
  if (!text.trim()) return;
  await guarded($("#kb-try-error"), async () => {
    shown.tried = await api("POST", "/kb/try", { text });
    renderTried();
  });
}

async function loadCandidates() {
  shown.candidates = await api("GET", "/kb/candidates");
  renderCandidates();
}

function renderCandidates() {
  $("#kb-candidates").replaceChildren(
    ...shown.candidates.map((c) => {
      const li = el("li");
      li.append(el("strong", null, c.question), el("span", "muted", t("fmt.label", { label: t("kb.support"), value: c.support })),
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

function renderMined() {
  if (shown.mined) $("#kb-mine-report").replaceChildren(el("strong", null, t("fmt.label", { label: t("kb.proposed"), value: shown.mined.proposed })));
}

/** Mines FAQs; the result appears beside the mining buttons and takes the focus, so it is
 *  seen (and read out) wherever the page is scrolled. */
async function mine(file) {
  const box = $("#kb-mine-report");
  const buttons = [$("#kb-mine"), $("#kb-mine-log-button")];
  box.hidden = false;
  box.replaceChildren(elT("p", "muted", "kb.mining_busy"));
  shown.mined = null;
  for (const b of buttons) b.disabled = true;
  try {
    shown.mined = file ? await upload("/kb/mine", file) : await api("POST", "/kb/mine");
    renderMined();
    await loadCandidates();
  } catch (err) {
    box.replaceChildren(el("p", "error", err.message));
  } finally {
    for (const b of buttons) b.disabled = false;
  }
  box.scrollIntoView({ block: "nearest" });
  box.focus({ preventScroll: true });
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
  $("#kb-try-text").onkeydown = (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      tryIt();
    }
  };
  $("#kb-mine").onclick = () => mine(null);
  $("#kb-mine-log-button").onclick = () => $("#kb-mine-log").click();
  $("#kb-mine-log").onchange = (e) => {
    const f = e.target.files[0];
    e.target.value = "";
    if (f) mine(f);
  };
  onLangChange(() => {
    renderEntries();
    renderCandidates();
    renderTried();
    renderImported();
    renderMined();
  });
}
