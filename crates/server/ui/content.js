// Renders message content as DOM nodes. Customer text is only ever set through textContent,
// and links only get http(s) URLs, so nothing a customer sends can run as code. Images are
// only loaded from kefu itself: a platform image is fetched through kefu's media store
// (`/api/messages/{id}/media`), never from the URL in the message.
import { t } from "./i18n.js";
import { el } from "./dom.js";

export function safeUrl(u) {
  try {
    const url = new URL(u, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function media(label, url, extra) {
  const box = el("span", "msg-media");
  const href = url && safeUrl(url);
  if (href) {
    const a = el("a", null, label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    box.append(a);
  } else {
    box.append(label);
  }
  if (extra) box.append(" ", extra);
  return box;
}

/** Where an image may be loaded from: kefu's own media, or its copy of a platform image. */
function imageSrc(c, messageId) {
  if (c.url && c.url.startsWith("/media/")) return c.url;
  if (c.url && messageId) return `/api/messages/${encodeURIComponent(messageId)}/media`;
  return null;
}

export function renderContent(c, messageId) {
  switch (c.type) {
    case "text":
      return el("span", "msg-text", c.text);
    case "image": {
      const src = imageSrc(c, messageId);
      if (!src) return media(t("content.image"));
      const img = el("img", "msg-image");
      img.src = src;
      img.alt = t("content.image");
      return img;
    }
    case "voice":
      return media(t("content.voice"), c.url, c.recognition);
    case "video":
      return media(t("content.video"), c.url);
    case "file":
      return media(`${t("content.file")} ${c.name}`, c.url);
    case "location":
      return media(`${t("content.location")} ${c.label ?? ""} (${c.latitude}, ${c.longitude})`);
    case "link": {
      const box = el("span", "msg-link");
      const href = safeUrl(c.url);
      const title = href ? el("a", null, c.title) : el("strong", null, c.title);
      if (href) {
        title.href = href;
        title.target = "_blank";
        title.rel = "noopener noreferrer";
      }
      box.append(title);
      if (c.description) box.append(el("small", null, c.description));
      return box;
    }
    case "menu": {
      const box = el("span", "msg-menu");
      box.append(el("span", "msg-text", c.head));
      const ol = el("ol");
      for (const ch of c.choices) ol.append(el("li", "msg-choice", ch.text));
      box.append(ol);
      if (c.tail) box.append(el("span", "msg-text", c.tail));
      return box;
    }
    case "event":
      return el("span", "msg-event", `${t("content.event")} ${c.event}${c.key ? " " + c.key : ""}`);
    default:
      return el("span", "msg-text", "[?]");
  }
}

export function preview(c) {
  return c.type === "text" ? c.text : renderContent(c).textContent;
}
