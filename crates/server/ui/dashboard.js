// The supervisors' dashboard: a period and a breakdown (channel, skill group, agent),
// shown as bar charts and a table. Figures come from GET /api/dashboard (docs/DATA.md).
import { api } from "./api.js";
import { onLangChange, t } from "./i18n.js";
import { el, showError } from "./dom.js";

const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400000;

const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const secs = (x) =>
  x === null || x === undefined ? "—"
    : x < 120 ? t("dash.seconds", { n: Math.round(x) })
    : t("dash.minutes", { n: (x / 60).toFixed(1) });
const spread = (s) => `${secs(s.median)} / ${secs(s.p90)}`;

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A horizontal bar chart of one figure across the rows. */
function chart(title, rows, value, label) {
  const w = 340, bar = 18, gap = 6, left = 110;
  const h = rows.length * (bar + gap) + 24;
  const max = Math.max(...rows.map((r) => value(r) ?? 0), 1e-9);
  const box = el("figure", "dash-chart");
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
  rows.forEach((r, i) => {
    const y = 20 + i * (bar + gap);
    const v = value(r) ?? 0;
    s.append(svg("text", { x: 0, y: y + 13, "font-size": 12 }, r.label.slice(0, 8)));
    s.append(svg("rect", { x: left, y, width: Math.max(1, ((w - left - 60) * v) / max), height: bar, fill: "#1677ff", rx: 3 }));
    s.append(svg("text", { x: w - 55, y: y + 13, "font-size": 12 }, label(value(r))));
  });
  box.append(el("figcaption", null, title), s);
  return box;
}

function row(r, total) {
  const tr = el("tr", total ? "total" : null);
  const tags = Object.entries(r.tags).map(([k, v]) => `${k} ${v}`).join(t("fmt.comma")) || "—";
  const csat = r.satisfaction_avg === null ? "—" : `${r.satisfaction_avg.toFixed(2)} (${r.satisfaction_count})`;
  for (const v of [r.label, r.volume, pct(r.interception_rate), pct(r.handoff_rate), spread(r.first_response),
    spread(r.handle_time), spread(r.queue_wait), r.leave_messages, csat, tags]) tr.append(el("td", null, String(v)));
  return tr;
}

const day = (ms) => new Date(ms).toISOString().slice(0, 10);

// Queries can overlap (opening the page loads the default period while the user picks
// another): only the newest may fill the page. `shown` is the figures on screen, to render
// them again after a language switch.
let loads = 0;
let shown = null;

function render() {
  const d = shown;
  if (!d) return;
  $("#dash-rows").replaceChildren(...d.rows.map((r) => row(r, false)), row({ ...d.total, label: t("dash.total") }, true));
  $("#dash-charts").replaceChildren(
    chart(t("dash.chart_volume"), d.rows, (r) => r.volume, (v) => String(v)),
    chart(t("dash.chart_handoff"), d.rows, (r) => r.handoff_rate, pct),
    chart(t("dash.chart_frt"), d.rows, (r) => r.first_response.median, secs),
  );
}

async function load() {
  $("#dash-error").textContent = "";
  const from = Date.parse($("#dash-from").value);
  const to = Date.parse($("#dash-to").value) + DAY;
  const mine = ++loads;
  try {
    const d = await api("GET", `/dashboard?from=${from}&to=${to}&by=${$("#dash-by").value}`);
    if (mine !== loads) return;
    shown = d;
    render();
  } catch (err) {
    showError($("#dash-error"), err);
  }
}

export function setupDashboard(allowed, show) {
  $("#open-dash").hidden = !allowed;
  if (!allowed) return;
  onLangChange(render);
  const now = Date.now();
  $("#dash-from").value = day(now - 6 * DAY);
  $("#dash-to").value = day(now);
  $("#dash-load").onclick = load;
  $("#dash-by").onchange = load;
  $("#open-dash").onclick = () => { show(true); load(); };
  $("#close-dash").onclick = () => show(false);
}
