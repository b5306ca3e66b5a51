// kefu UI strings: Simplified Chinese first, English available. Shared by every page.

const STRINGS = {
  "zh-CN": {
    "app.title": "kefu 客服工作台",
    "lang.switch": "English",
    "login.title": "登录客服工作台",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.failed": "用户名或密码错误",
    "login.throttled": "尝试次数过多，请稍后再试",
    "logout": "退出",
    "status.online": "在线",
    "status.away": "离开",
    "status.offline": "离线",
    "tab.mine": "我的会话",
    "tab.all": "全部会话",
    "tab.closed": "已结束",
    "state.bot": "机器人",
    "state.queued": "排队中",
    "state.assigned": "服务中",
    "state.leave_message": "留言",
    "state.closed": "已结束",
    "list.empty": "暂无会话",
    "conv.none": "请选择左侧的会话",
    "conv.claim": "接入",
    "conv.close": "结束会话",
    "conv.closed": "会话已结束",
    "conv.confirm_close": "确定结束这个会话吗？",
    "composer.placeholder": "输入回复，Enter 发送，Shift+Enter 换行",
    "composer.send": "发送",
    "delivery.pending": "发送中",
    "delivery.sent": "已发送",
    "delivery.delivered": "已送达",
    "delivery.failed": "发送失败",
    "delivery.retrying": "重试中",
    "customer.title": "客户信息",
    "customer.channel": "渠道",
    "customer.external_id": "渠道账号",
    "customer.since": "首次接触",
    "feed.offline": "实时连接已断开，正在重连…",
    "error.generic": "操作失败",
    "content.image": "[图片]",
    "content.voice": "[语音]",
    "content.video": "[视频]",
    "content.file": "[文件]",
    "content.location": "[位置]",
    "content.event": "[事件]",
    "sender.customer": "客户",
    "sender.bot": "机器人",
    "sender.system": "系统",
    "sender.agent": "客服",
    "chat.title": "在线客服",
    "chat.placeholder": "请输入您的问题…",
    "chat.send": "发送",
    "chat.connecting": "正在连接…",
    "chat.offline": "网络已断开，正在重连，您的消息会在恢复后发送",
    "chat.sending": "发送中",
    "chat.sent": "已送达客服",
    "chat.failed": "发送失败",
    "widget.open": "在线客服",
  },
  en: {
    "app.title": "kefu Agent Workbench",
    "lang.switch": "中文",
    "login.title": "Sign in to the workbench",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.failed": "Wrong username or password",
    "login.throttled": "Too many attempts, please wait",
    "logout": "Sign out",
    "status.online": "Online",
    "status.away": "Away",
    "status.offline": "Offline",
    "tab.mine": "My conversations",
    "tab.all": "All conversations",
    "tab.closed": "Closed",
    "state.bot": "Bot",
    "state.queued": "Queued",
    "state.assigned": "In service",
    "state.leave_message": "Message left",
    "state.closed": "Closed",
    "list.empty": "No conversations",
    "conv.none": "Pick a conversation on the left",
    "conv.claim": "Take",
    "conv.close": "Close",
    "conv.closed": "Conversation closed",
    "conv.confirm_close": "Close this conversation?",
    "composer.placeholder": "Type a reply; Enter sends, Shift+Enter for a new line",
    "composer.send": "Send",
    "delivery.pending": "Sending",
    "delivery.sent": "Sent",
    "delivery.delivered": "Delivered",
    "delivery.failed": "Failed",
    "delivery.retrying": "Retrying",
    "customer.title": "Customer",
    "customer.channel": "Channel",
    "customer.external_id": "Channel account",
    "customer.since": "First contact",
    "feed.offline": "Live connection lost, reconnecting…",
    "error.generic": "Something went wrong",
    "content.image": "[image]",
    "content.voice": "[voice]",
    "content.video": "[video]",
    "content.file": "[file]",
    "content.location": "[location]",
    "content.event": "[event]",
    "sender.customer": "Customer",
    "sender.bot": "Bot",
    "sender.system": "System",
    "sender.agent": "Agent",
    "chat.title": "Customer service",
    "chat.placeholder": "Type your question…",
    "chat.send": "Send",
    "chat.connecting": "Connecting…",
    "chat.offline": "Offline, reconnecting; your messages will be sent when we are back",
    "chat.sending": "Sending",
    "chat.sent": "Received",
    "chat.failed": "Not sent",
    "widget.open": "Chat with us",
  },
};

const KEY = "kefu.lang";

export function lang() {
  const saved = localStorage.getItem(KEY);
  return saved && STRINGS[saved] ? saved : "zh-CN";
}

export function setLang(l) {
  localStorage.setItem(KEY, l);
  applyI18n();
}

export function t(key) {
  return STRINGS[lang()][key] ?? STRINGS["zh-CN"][key] ?? key;
}

/** Fills every element marked data-i18n (text) or data-i18n-placeholder (placeholder). */
export function applyI18n(root = document) {
  document.documentElement.lang = lang();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function toggleLang() {
  setLang(lang() === "zh-CN" ? "en" : "zh-CN");
}
