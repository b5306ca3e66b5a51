// Transferring the open conversation to a colleague or a skill group, with a note only
// colleagues see.
import { api } from "./api.js";
import { t } from "./i18n.js";

const $ = (sel) => document.querySelector(sel);

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

async function open(current) {
  if (!current()) return;
  const [groups, agents] = await Promise.all([api("GET", "/groups"), api("GET", "/agents")]);
  const held = current().conversation.agent;
  const target = $("#transfer-target");
  target.replaceChildren(
    ...groups.map((g) => option(`group:${g.id}`, `${t("transfer.group")}：${g.name}`)),
    ...agents
      .filter((a) => a.id !== held && a.capacity > 0)
      .map((a) => option(`agent:${a.id}`, `${t("transfer.agent")}：${a.display_name}（${t(`status.${a.status}`)}）`)),
  );
  $("#transfer-note").value = "";
  $("#transfer-form").hidden = false;
  target.focus();
}

export function setupTransfer(current, done) {
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
      $("#composer-error").textContent = `${t("error.generic")}: ${err.message}`;
    }
  };
}
