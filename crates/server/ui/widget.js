// kefu web chat embed. Add to any page:
//   <script src="https://kefu.example.com/widget.js" data-channel="web" async></script>
// It adds a button that opens the chat in an iframe served by kefu, so the host page's
// styles and scripts never touch the chat, and the visitor id stays with kefu's origin.
(function () {
  var script = document.currentScript;
  if (!script || window.__kefuWidget) return;
  window.__kefuWidget = true;
  var base = new URL(script.src).origin;
  var channel = script.getAttribute("data-channel") || "web";
  // This runs on other sites as a classic script and cannot import kefu's i18n.js, so it
  // carries the button's first label itself (the same text as widget.open in i18n.js:
  // "\u5728\u7ebf\u5ba2\u670d" is Chinese for "online customer service"). Once the chat
  // has been opened, the chat frame sends the label in the language chosen there.
  var LABELS = { "zh-CN": "\u5728\u7ebf\u5ba2\u670d", en: "Chat with us" };
  var fixed = script.getAttribute("data-label");

  function firstLang() {
    var saved = null;
    try {
      // kefu's own pages (the demo site) share the visitor's choice with the chat frame.
      if (location.origin === base) saved = localStorage.getItem("kefu.lang");
    } catch (e) {
      saved = null;
    }
    // Chinese first, like every kefu page, unless the visitor chose English in the chat.
    return LABELS[saved] ? saved : "zh-CN";
  }

  function style(el, css) {
    for (var k in css) el.style[k] = css[k];
  }

  var button = document.createElement("button");
  var frame = null;

  function setLabel(text) {
    button.textContent = fixed || text;
    if (frame) frame.title = fixed || text;
  }

  button.id = "kefu-widget-button";
  button.type = "button";
  style(button, { position: "fixed", right: "24px", bottom: "24px", zIndex: "2147483646", padding: "12px 20px",
    border: "none", borderRadius: "24px", background: "#1677ff", color: "#fff", fontSize: "15px",
    whiteSpace: "nowrap", cursor: "pointer", boxShadow: "0 4px 16px rgba(0,0,0,.2)" });
  setLabel(LABELS[firstLang()]);

  // The chat frame names the button in the visitor's language, and again when it switches.
  window.addEventListener("message", function (e) {
    var d = e.data;
    if (!frame || e.source !== frame.contentWindow || e.origin !== base) return;
    if (d && d.kefu === "label" && typeof d.text === "string" && d.text.length <= 40) setLabel(d.text);
  });
  // kefu's own pages switch language in place: follow them before the chat is opened.
  document.addEventListener("langchange", function () {
    if (!frame) setLabel(LABELS[firstLang()]);
  });

  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "kefu-widget-frame";
      frame.title = button.textContent;
      frame.src = base + "/webchat/frame?c=" + encodeURIComponent(channel);
      style(frame, { position: "fixed", right: "24px", bottom: "84px", width: "360px", height: "520px",
        maxHeight: "calc(100vh - 108px)", maxWidth: "calc(100vw - 48px)", border: "1px solid #e5e7eb",
        borderRadius: "12px", zIndex: "2147483647", background: "#fff", boxShadow: "0 8px 32px rgba(0,0,0,.18)" });
      document.body.appendChild(frame);
    } else {
      frame.style.display = frame.style.display === "none" ? "block" : "none";
    }
  });
  document.body.appendChild(button);
})();
