// Small DOM helpers shared by the workbench's pages. Text always goes in as textContent,
// so customer and agent text can never become markup.
import { t } from "./i18n.js";

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

export function button(text, cls, onclick) {
  const b = el("button", cls, text);
  b.type = "button";
  b.onclick = onclick;
  return b;
}

/** Runs `fn`, showing its failure in the `box` element (cleared first). */
export async function guarded(box, fn) {
  box.textContent = "";
  try {
    await fn();
  } catch (err) {
    box.textContent = `${t("error.generic")}: ${err.message}`;
  }
}

export const fmtTime = (ms) => new Date(ms).toLocaleString(document.documentElement.lang, { hour12: false });
