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
  var label = script.getAttribute("data-label") || (navigator.language && navigator.language.indexOf("zh") !== 0 ? "Chat with us" : "在线客服");

  function style(el, css) {
    for (var k in css) el.style[k] = css[k];
  }

  var button = document.createElement("button");
  button.id = "kefu-widget-button";
  button.type = "button";
  button.textContent = label;
  style(button, { position: "fixed", right: "24px", bottom: "24px", zIndex: "2147483646", padding: "12px 20px",
    border: "none", borderRadius: "24px", background: "#1677ff", color: "#fff", fontSize: "15px",
    cursor: "pointer", boxShadow: "0 4px 16px rgba(0,0,0,.2)" });

  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "kefu-widget-frame";
      frame.title = label;
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
