// The supervisor's routing page: skill groups (strategy, sticky window, keyword rules, business
// hours, queue timeout, closing message) and agents (capacity, groups). Saved rules apply to
// the next conversation.
import { api } from "./api.js";
import { onLangChange, t } from "./i18n.js";
import { el, weekday } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
let groups = [];
// The agents as last shown, to render them again after a language switch.
let agents = null;

// Dates are separated by commas (ASCII or full-width) or spaces.
const list = (s) => s.split(/[,\uFF0C\s]+/).map((x) => x.trim()).filter(Boolean);

/** Open days in the current language, three or more in a row as a range ("Mon–Fri"). */
function daysText(open) {
  const parts = [];
  for (let i = 0; i < DAYS.length; i++) {
    if (!open[i]) continue;
    let j = i;
    while (j + 1 < DAYS.length && open[j + 1]) j++;
    if (j - i >= 2) parts.push(t("fmt.day_range", { from: weekday(i), to: weekday(j) }));
    else for (let k = i; k <= j; k++) parts.push(weekday(k));
    i = j;
  }
  return parts.join(t("fmt.list_sep"));
}

function hoursText(h) {
  if (!h) return t("routing.always");
  const days = daysText(DAYS.map((d) => !!h.weekly[d]?.length));
  const first = Object.values(h.weekly).find((v) => v.length)?.[0];
  return first ? `${days} ${first[0]}–${first[1]}` : t("routing.never");
}

function groupRow(g) {
  const tr = el("tr");
  const edit = el("button", "secondary", t("kb.edit_button"));
  edit.type = "button";
  edit.onclick = () => fill(g);
  const actions = el("td");
  actions.append(edit);
  tr.append(
    el("td", null, g.name),
    el("td", null, t(`strategy.${g.routing.strategy}`)),
    el("td", null, g.routing.keywords.join(t("fmt.list_sep"))),
    el("td", null, hoursText(g.routing.business_hours)),
    actions,
  );
  return tr;
}

function fill(g) {
  const f = $("#group-form");
  const r = g.routing;
  f.id.value = g.id;
  f.name.value = g.name;
  f.strategy.value = r.strategy;
  f.sticky_hours.value = r.sticky_hours;
  f.queue_timeout_secs.value = r.queue_timeout_secs ?? "";
  f.keywords.value = r.keywords.join("\n");
  f.closing_message.value = r.closing_message ?? "";
  const h = r.business_hours;
  f.hours_on.checked = !!h;
  const first = h && Object.values(h.weekly).find((v) => v.length)?.[0];
  f.open.value = first?.[0] ?? "09:00";
  f.close.value = first?.[1] ?? "18:00";
  f.offset.value = h ? h.utc_offset_minutes / 60 : 8;
  for (const d of DAYS) f[`day_${d}`].checked = h ? !!h.weekly[d]?.length : !["sat", "sun"].includes(d);
  f.holidays.value = h?.holidays.join(", ") ?? "";
  f.workdays.value = h?.workdays.join(", ") ?? "";
  f.name.focus();
}

function formRouting(f) {
  const interval = [[f.open.value, f.close.value]];
  const weekly = Object.fromEntries(DAYS.filter((d) => f[`day_${d}`].checked).map((d) => [d, interval]));
  const hours = {
    utc_offset_minutes: Math.round(Number(f.offset.value) * 60),
    weekly,
    holidays: list(f.holidays.value),
    workdays: list(f.workdays.value),
  };
  return {
    strategy: f.strategy.value,
    sticky_hours: Number(f.sticky_hours.value || 0),
    queue_timeout_secs: f.queue_timeout_secs.value ? Number(f.queue_timeout_secs.value) : null,
    business_hours: f.hours_on.checked ? hours : null,
    keywords: f.keywords.value.split("\n").map((k) => k.trim()).filter(Boolean),
    closing_message: f.closing_message.value.trim() || null,
  };
}

async function save(e) {
  e.preventDefault();
  const f = e.target;
  $("#group-error").textContent = "";
  const body = { name: f.name.value, routing: formRouting(f) };
  try {
    if (f.id.value) await api("PUT", `/groups/${f.id.value}`, body);
    else await api("POST", "/groups", body);
    f.reset();
    f.id.value = "";
    await load();
  } catch (err) {
    $("#group-error").textContent = err.message;
  }
}

function agentRow(a) {
  const tr = el("tr");
  const capacity = el("input");
  capacity.type = "number";
  capacity.min = 0;
  capacity.max = 100;
  capacity.value = a.capacity;
  capacity.className = "capacity";
  const member = el("td", "members");
  for (const g of groups) {
    const box = el("input");
    box.type = "checkbox";
    box.value = g.id;
    box.checked = a.skill_groups.includes(g.id);
    const label = el("label", "inline");
    label.append(box, el("span", null, g.name));
    member.append(label);
  }
  const saveAgent = async () => {
    const skill_groups = [...member.querySelectorAll("input:checked")].map((b) => Number(b.value));
    try {
      await api("PUT", `/agents/${a.id}`, { capacity: Number(capacity.value), skill_groups });
      tr.classList.remove("error-row");
    } catch (err) {
      tr.classList.add("error-row");
      tr.title = err.message;
    }
  };
  capacity.onchange = saveAgent;
  member.onchange = saveAgent;
  const cap = el("td");
  cap.append(capacity);
  tr.append(el("td", null, t("fmt.paren", { main: a.display_name, extra: a.username })), el("td", null, t(`status.${a.status}`)),
    cap, member);
  return tr;
}

async function load() {
  groups = await api("GET", "/groups");
  $("#group-rows").replaceChildren(...groups.map(groupRow));
  agents = await api("GET", "/agents");
  $("#agent-rows").replaceChildren(...agents.map(agentRow));
}

/** After a language switch: the tables from the data already loaded, and the day names. */
function rerender() {
  $("#group-rows").replaceChildren(...groups.map(groupRow));
  if (agents) $("#agent-rows").replaceChildren(...agents.map(agentRow));
  for (const [i, name] of $("#group-form .days").querySelectorAll(".day-name").entries()) name.textContent = weekday(i);
}

export function setupRouting(isSupervisor, showPane) {
  if (!isSupervisor) return;
  const days = $("#group-form .days");
  days.replaceChildren(
    ...DAYS.map((d, i) => {
      const label = el("label", "inline");
      const box = el("input");
      box.type = "checkbox";
      box.name = `day_${d}`;
      box.defaultChecked = !["sat", "sun"].includes(d);
      label.append(box, el("span", "day-name", weekday(i)));
      return label;
    }),
  );
  onLangChange(rerender);
  $("#open-routing").onclick = async () => {
    showPane(true);
    await load();
  };
  $("#close-routing").onclick = () => showPane(false);
  $("#group-form").onsubmit = save;
}
