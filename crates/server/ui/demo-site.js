// The demo company page that hosts the widget: its text in the chosen language, and the switch.
import { applyI18n, toggleLang } from "./i18n.js";

applyI18n();
for (const b of document.querySelectorAll(".lang-toggle")) b.onclick = toggleLang;
