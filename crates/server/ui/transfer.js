// Transferring the open conversation to a colleague or a skill group, with a note only
// colleagues see.
import { api } from "./api.js";
import { onLangChange, t } from "./i18n.js";
import { showError } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
// The targets on offer, to name them again after a language switch.
let offered = null;

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

function renderTargets() {
  if (!offered) return;
  const { groups, agents, held } = offered;
  const target = $("#transfer-target");
  const chosen = target.value;
  target.replaceChildren(
    ...groups.map((g) => option(`group:${g.id}`, t("fmt.label", { label: t("transfer.group"), value: g.name }))),
    ...agents
      .filter((a) => a.id !== held && a.capacity > 0)
      .map((a) => option(`agent:${a.id}`, t("fmt.label", {
        label: t("transfer.agent"),
        value: t("fmt.paren", { main: a.display_name, extra: t(`status.${a.status}`) }),
      }))),
  );
  if (chosen && [...target.options].some((o) => o.value === chosen)) target.value = chosen;
}

async function open(current) {
  if (!current()) return;
  const [groups, agents] = await Promise.all([api("GET", "/groups"), api("GET", "/agents")]);
  offered = { groups, agents, held: current().conversation.agent };
  $("#transfer-target").replaceChildren();
  renderTargets();
  $("#transfer-note").value = "";
  $("#transfer-form").hidden = false;
  $("#transfer-target").focus();
}

export function setupTransfer(current, done) {
  onLangChange(renderTargets);
  $("#transfer-conversation").onclick = () => open(current);
  $("#transfer-cancel").onclick = () => { $("#transfer-form").hidden = true; };
  $("#transfer-form").onsubmit = async (e) => {
    e.preventDefault();
    const [kind, id] = $("#transfer-target").value.split(":");
    const body = { [kind]: Number(id), note: $("#transfer-note").value };
    $("#composer-error").textContent = "";
    try {
      done(await api("POST", `/conversations/${current().conversation.id}/transfer`, body));
      $("#transfer-form").hidden = true;
    } catch (err) {
      showError($("#composer-error"), err);
    }
  };
}
