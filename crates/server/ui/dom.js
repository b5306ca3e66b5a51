// Small DOM helpers shared by the workbench's pages. Text always goes in as textContent,
// so customer and agent text can never become markup.
import { lang, t } from "./i18n.js";

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

/** An element showing the UI string `key`, marked so a language switch refills it. */
export function elT(tag, cls, key) {
  const e = el(tag, cls, t(key));
  e.dataset.i18n = key;
  return e;
}

export function button(text, cls, onclick) {
  const b = el("button", cls, text);
  b.type = "button";
  b.onclick = onclick;
  return b;
}

/** Shows "<error.generic>: <reason>" in `box`; the label follows language switches. */
export function showError(box, err) {
  box.replaceChildren(elT("span", null, "error.generic"), `: ${err?.message ?? err}`);
}

/** Runs `fn`, showing its failure in the `box` element (cleared first). */
export async function guarded(box, fn) {
  box.textContent = "";
  try {
    await fn();
  } catch (err) {
    showError(box, err);
  }
}

/** A date and time in the current language. */
export const fmtTime = (ms) => new Date(ms).toLocaleString(lang(), { hour12: false });

/** A weekday's short name in the current language; 0 is Monday. */
export const weekday = (i) =>
  new Intl.DateTimeFormat(lang(), { weekday: "short", timeZone: "UTC" }).format(Date.UTC(2024, 0, 1 + i));
