// The WeChat / DingTalk simulator page: plays one user on one channel and shows the
// conversation, polling the simulator for what kefu sent. All text goes through textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const CHANNEL_NAMES = { oa: "公众号", kf: "微信客服", wecom: "企业微信", dingtalk: "钉钉" };
  const VIA_NAMES = {
    passive: "被动回复", custom_send: "客服消息", kf_send: "微信客服消息",
    kf_event: "事件响应消息", app_send: "应用消息",
    dt_session: "会话回复", dt_batch: "机器人单聊消息", dt_group: "机器人群消息",
  };
  // The group a DingTalk user talks in when "在群聊中发言" is ticked.
  const DT_GROUP = { open_conversation_id: "cidKefuDemoGroup0001==", title: "kefu 演示群" };
  const EVENT_NAMES = {
    subscribe: "关注了公众号", unsubscribe: "取消了关注", CLICK: "点击了菜单",
    click: "点击了菜单", enter_session: "进入了会话",
  };
  let config = { oa: [], wecom: [], users: [], dingtalk: [], dingtalk_users: [] };
  let extraUsers = [];
  let lastRendered = "";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function status(text, isError) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("error", !!isError);
  }

  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
    return data;
  }

  function accountsFor(channel) {
    if (channel === "oa") return config.oa.map((a) => ({ id: a.app_id, label: a.original_id + "（" + a.app_id + "）" }));
    if (channel === "kf") return config.wecom.flatMap((w) => w.open_kfids.map((k) => ({ id: k, label: k })));
    if (channel === "dingtalk") return (config.dingtalk || []).map((a) => ({ id: a.app_key, label: a.robot_name + "（" + a.app_key + "）" }));
    return config.wecom.filter((w) => w.agent_id !== null).map((w) => ({ id: w.corp_id, label: w.corp_id + " · 应用 " + w.agent_id }));
  }

  function fillSelect(select, items) {
    const keep = select.value;
    select.replaceChildren();
    for (const it of items) {
      const o = el("option", "", it.label);
      o.value = it.id;
      select.appendChild(o);
    }
    if (items.some((it) => it.id === keep)) select.value = keep;
  }

  function refreshPickers() {
    const channel = $("channel").value;
    fillSelect($("account"), accountsFor(channel));
    const known = channel === "dingtalk"
      ? (config.dingtalk_users || []).map((u) => ({ id: u.staff_id, label: u.nick + "（" + u.staff_id + "）" }))
      : config.users.map((u) => ({ id: u.id, label: (u.nickname || u.id) + "（" + u.id + "）" }));
    const users = known.concat(extraUsers.map((id) => ({ id, label: id })));
    fillSelect($("user"), users);
    for (const node of document.querySelectorAll("[data-only]")) {
      node.hidden = !node.dataset.only.split(" ").includes(channel);
    }
    const account = $("account").selectedOptions[0];
    $("title").textContent = CHANNEL_NAMES[channel] + (account ? " · " + account.textContent : "")
      + (inGroup() ? " · " + DT_GROUP.title : "");
    lastRendered = "";
    poll();
  }

  function inGroup() {
    return $("channel").value === "dingtalk" && $("dt-group").checked;
  }

  // [path, body] of the control call that makes the current user say `message`.
  function sayRequest(message) {
    const channel = $("channel").value;
    const account = encodeURIComponent($("account").value);
    const user = encodeURIComponent($("user").value);
    if (channel === "oa") return ["/sim/api/oa/" + account + "/users/" + user + "/messages", message];
    if (channel === "kf") return ["/sim/api/kf/" + account + "/customers/" + user + "/messages", message];
    if (channel === "wecom") return ["/sim/api/wecom/" + account + "/members/" + user + "/messages", message];
    const body = { app_key: $("account").value, staff_id: $("user").value, message };
    if (inGroup()) body.group = Object.assign({ at_robot: $("dt-at").checked }, DT_GROUP);
    return ["/sim/api/dingtalk/say", body];
  }

  async function control(path, okText) {
    status("处理中…");
    try {
      const d = await api("POST", path, {});
      if (d.ok) status(okText + "（尝试 " + d.attempts + " 次）");
      else status(d.error || "失败", true);
    } catch (e) {
      status(e.message, true);
    }
    poll();
  }

  async function say(message) {
    if (!$("account").value || !$("user").value) {
      status("请先选择账号和用户", true);
      return;
    }
    status("发送中…");
    try {
      const [path, body] = sayRequest(message);
      const d = await api("POST", path, body);
      if (d.ok) status("已送达 kefu（尝试 " + d.attempts + " 次）");
      else status(d.error || "发送失败", true);
    } catch (e) {
      status(e.message, true);
    }
    poll();
  }

  function saidNode(s) {
    const m = s.message;
    if (m.type === "event") {
      const name = EVENT_NAMES[m.event] || ("触发了事件 " + m.event);
      return el("li", "note", "你" + name + (m.key ? "：" + m.key : ""));
    }
    const li = el("li", "msg out");
    li.appendChild(el("span", "avatar", "我"));
    const b = el("div", "bubble");
    if (m.type === "text") b.textContent = m.content;
    else if (m.type === "image" && s.media_id) b.appendChild(image("/sim/media/" + encodeURIComponent(s.media_id)));
    else if (m.type === "location") b.textContent = "📍 " + (m.label || (m.x + ", " + m.y));
    else if (m.type === "link") b.textContent = "🔗 " + m.title;
    else if (m.type === "file") b.textContent = "📎 " + m.file_name;
    else if (m.type === "voice") b.textContent = "🎤 " + (m.recognition || "[语音]");
    else if (m.type === "rich_text") richNode(m.parts, s.media_id, b);
    else b.textContent = "[" + m.type + "]";
    li.appendChild(b);
    return li;
  }

  function richNode(parts, mediaId, b) {
    for (const p of parts || []) {
      if (p.type === "text") b.appendChild(el("div", "", p.text));
      else if (mediaId) b.appendChild(image("/sim/media/" + encodeURIComponent(mediaId)));
      else b.appendChild(el("div", "", "[图片]"));
    }
  }

  function image(src) {
    const img = el("img");
    img.src = src;
    img.alt = "图片";
    return img;
  }

  function menuNode(menu) {
    const frag = document.createDocumentFragment();
    if (menu.head_content) frag.appendChild(el("div", "", menu.head_content));
    for (const item of menu.list || []) {
      const click = item.click || item;
      const text = click.content || (item.view && item.view.content) || "";
      const btn = el("button", "menu-item", text);
      btn.type = "button";
      btn.addEventListener("click", () => say({ type: "text", content: text }));
      frag.appendChild(btn);
    }
    if (menu.tail_content) frag.appendChild(el("div", "", menu.tail_content));
    return frag;
  }

  // DingTalk cards: the single button, the btns list, or actionTitle1…N of the send API.
  function cardButtons(c) {
    const titles = [];
    if (c.singleTitle) titles.push(c.singleTitle);
    for (const x of c.btns || []) titles.push(x.title);
    for (let i = 1; c["actionTitle" + i]; i++) titles.push(c["actionTitle" + i]);
    return titles;
  }

  function dingtalkBody(r, c, b) {
    const t = r.msgtype;
    if (t === "sampleText") b.textContent = c.content;
    else if ((t === "markdown" && c.content === undefined) || t === "sampleMarkdown") {
      b.appendChild(el("div", "title", c.title || ""));
      b.appendChild(el("div", "", c.text || ""));
    } else if (t === "sampleImageMsg") {
      const url = c.photoURL || "";
      if (url.startsWith("@")) b.appendChild(image("/sim/media/" + encodeURIComponent(url)));
      else b.textContent = "🖼 " + url;
    } else if (t === "actionCard" || t.startsWith("sampleActionCard")) {
      b.appendChild(el("div", "title", c.title || ""));
      b.appendChild(el("div", "", c.text || ""));
      const titles = cardButtons(c);
      if (titles.length) b.appendChild(el("span", "buttons", titles.map((x) => "〔" + x + "〕").join(" ")));
    } else if (t === "sampleLink" || t === "link") {
      b.appendChild(el("div", "title", c.title || ""));
      b.appendChild(el("div", "desc", c.text || ""));
    } else return false;
    return true;
  }

  function receivedBody(r, b) {
    const c = r.content || {};
    if (r.channel === "dingtalk" && dingtalkBody(r, c, b)) return;
    if (r.msgtype === "text" || r.msgtype === "markdown") b.textContent = c.content;
    else if (r.msgtype === "image") {
      b.appendChild(image("/sim/media/" + encodeURIComponent(c.media_id)));
    } else if (r.msgtype === "news") {
      for (const a of c.articles || []) {
        b.appendChild(el("div", "title", a.title || ""));
        b.appendChild(el("div", "desc", a.description || ""));
      }
    } else if (r.msgtype === "link" || r.msgtype === "textcard") {
      b.appendChild(el("div", "title", c.title || ""));
      b.appendChild(el("div", "desc", c.desc || c.description || ""));
    } else if (r.msgtype === "msgmenu") b.appendChild(menuNode(c));
    else b.textContent = "[" + r.msgtype + "]";
  }

  function receivedNode(r) {
    const li = el("li", "msg in");
    li.appendChild(el("span", "avatar", "客"));
    const b = el("div", "bubble");
    receivedBody(r, b);
    b.appendChild(el("span", "via", VIA_NAMES[r.via] || r.via));
    li.appendChild(b);
    return li;
  }

  // `group`: the group's own timeline (replies to the group) when playing in a DingTalk group.
  function render(timeline, group) {
    const channel = $("channel").value;
    const account = $("account").value;
    const conv = inGroup() ? DT_GROUP.open_conversation_id : undefined;
    const mine = (x) => x.channel === channel && x.account === account;
    const received = group ? group.received : timeline.received;
    const items = timeline.said.filter((s) => mine(s) && s.conversation === conv)
      .map((s) => ({ seq: s.seq, node: () => saidNode(s), error: s.error }))
      .concat(received.filter(mine).map((r) => ({ seq: r.seq, node: () => receivedNode(r) })));
    items.sort((a, b) => a.seq - b.seq);
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren();
    for (const it of items) {
      list.appendChild(it.node());
      if (it.error) list.appendChild(el("li", "note error", it.error));
    }
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  async function poll() {
    const user = $("user").value;
    if (!user) return;
    try {
      const t = await api("GET", "/sim/api/timeline/" + encodeURIComponent(user));
      const g = inGroup()
        ? await api("GET", "/sim/api/timeline/" + encodeURIComponent(DT_GROUP.open_conversation_id))
        : undefined;
      const key = JSON.stringify([t, g]) + $("channel").value + $("account").value + inGroup();
      if (key !== lastRendered) {
        lastRendered = key;
        render(t, g);
      }
    } catch (e) {
      status("无法连接模拟器：" + e.message, true);
    }
  }

  let lastSms = "";
  async function pollSms() {
    try {
      const texts = await api("GET", "/sim/api/sms");
      const key = JSON.stringify(texts);
      if (key === lastSms) return;
      lastSms = key;
      const items = texts.slice(-10).reverse().map(function (s) {
        const li = el("li", "sms-item");
        li.appendChild(el("strong", null, s.phone));
        li.appendChild(el("span", null, " " + s.text));
        return li;
      });
      $("sms").replaceChildren.apply($("sms"), items);
    } catch (e) {
      // The chat poll reports an unreachable simulator already.
    }
  }

  function readFileAsBase64(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).split(",")[1] || "");
      r.onerror = () => reject(r.error);
      r.readAsDataURL(file);
    });
  }

  const actions = {
    image: () => say({ type: "image" }),
    location: () => say({ type: "location", x: 23.134521, y: 113.358803, scale: 16, label: "广州塔（模拟位置）" }),
    subscribe: () => say({ type: "event", event: "subscribe" }),
    unsubscribe: () => say({ type: "event", event: "unsubscribe" }),
    click: () => {
      const key = $("menu-key").value.trim() || "MENU_HELP";
      say({ type: "event", event: $("channel").value === "oa" ? "CLICK" : "click", key });
    },
    enter: () => say({ type: "event", event: "enter_session", key: "sim_demo" }),
    voice: () => say({ type: "voice", recognition: "我的电脑连不上网了" }),
    rich: () => say({ type: "rich_text", parts: [{ type: "text", text: "报错截图如下：" }, { type: "picture" }] }),
    redeliver: () => control("/sim/api/dingtalk/" + encodeURIComponent($("account").value) + "/redeliver", "已重新投递"),
    checkurl: () => control("/sim/api/dingtalk/" + encodeURIComponent($("account").value) + "/check_url", "事件订阅地址校验通过"),
  };

  function wire() {
    $("channel").addEventListener("change", refreshPickers);
    $("account").addEventListener("change", refreshPickers);
    $("user").addEventListener("change", () => { lastRendered = ""; poll(); });
    $("dt-group").addEventListener("change", refreshPickers);
    $("add-user").addEventListener("click", () => {
      const id = $("new-user").value.trim();
      if (!id) return;
      if (!extraUsers.includes(id)) extraUsers.push(id);
      $("new-user").value = "";
      refreshPickers();
      $("user").value = id;
      lastRendered = "";
      poll();
    });
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("text").value;
      if (!text.trim()) return;
      $("text").value = "";
      say({ type: "text", content: text });
    });
    for (const btn of document.querySelectorAll("[data-action]")) {
      btn.addEventListener("click", () => actions[btn.dataset.action]());
    }
    $("image-file").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      ev.target.value = "";
      if (file) say({ type: "image", data_base64: await readFileAsBase64(file) });
    });
  }

  async function init() {
    wire();
    try {
      config = await api("GET", "/sim/api/config");
    } catch (e) {
      status("无法读取配置：" + e.message, true);
    }
    refreshPickers();
    setInterval(poll, 1000);
    setInterval(pollSms, 2000);
    pollSms();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
