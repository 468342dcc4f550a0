// Shared by the three consoles: sign-in with the API token, API calls with progress and plain errors,
// the live websocket with reconnect and catch-up, and a small DOM helper. No framework, no build step.

const TOKEN_KEY = "hotline.token";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// h("button", {class: "primary", onclick: fn}, "受理") → an element; children may be strings, nodes, arrays.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "html") el.innerHTML = value; // only for HTML the server escaped (KB highlights)
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function fill(el, ...children) {
  el.replaceChildren();
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(status, message, errorId) {
    super(message);
    this.status = status;
    this.errorId = errorId;
  }
}

const FAILOVER_WAIT_MS = 15000;

// One call to the gateway's API. POSTs carry an Idempotency-Key: a retried click never acts twice.
export async function api(method, path, body, { query } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null) url.searchParams.set(k, v);
  // A gateway failover (the standby taking over, a few seconds) answers 503 not-leader with Retry-After:
  // resend with the SAME Idempotency-Key, so the action runs exactly once, for up to FAILOVER_WAIT_MS.
  const giveUpAt = Date.now() + FAILOVER_WAIT_MS;
  let response, data;
  for (;;) {
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, "无法连接网关（网络中断？）", "network");
    }
    data = await response.json().catch(() => null);
    if (response.status !== 503 || data?.error_id !== "not-leader" || Date.now() >= giveUpAt) break;
    say("网关正在主备切换，稍候自动重试…", "busy");
    const seconds = Number(response.headers.get("Retry-After")) || 1;
    await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 5) * 1000));
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.message || `HTTP ${response.status}`, data?.error_id);
  }
  return data;
}

// The status line at the top of every page: what is happening and what went wrong, in plain words.
export function say(text, kind = "info") {
  const line = $("#status");
  if (!line) return;
  line.textContent = text;
  line.dataset.kind = kind;
}

// Refusals an agent meets often, in Chinese; anything else shows the gateway's own message.
const ERRORS_ZH = {
  "asterisk-unavailable": "电话系统（Asterisk）未连接，请稍后再试或改用手工登记",
  "asterisk-refused": "电话系统拒绝了该操作（通话可能已结束或已变化）",
  "action-outcome-unknown": "电话系统未确认该操作是否完成，请查看通话状态后再试",
  "not-leader": "网关主备切换尚未完成，请稍后再试",
  "speech-not-ready": "语音识别尚未就绪",
  "unknown-agent": "座席未登记，请联系班长登记座席",
};

// Run a button's action: disabled + "…" while it runs, the result or the API's refusal on the status line.
export async function act(button, label, action) {
  if (button) {
    if (button.dataset.busy) return null;
    button.dataset.busy = "1";
    button.disabled = true;
    button.classList.add("busy");
  }
  say(`${label}…`, "busy");
  try {
    const result = await action();
    say(`${label}：完成`, "ok");
    return result;
  } catch (err) {
    const code = err.errorId ? `（${err.errorId}）` : "";
    say(`${label}失败：${ERRORS_ZH[err.errorId] || err.message}${code}`, "error");
    return null;
  } finally {
    if (button) {
      delete button.dataset.busy;
      button.disabled = false;
      button.classList.remove("busy");
    }
  }
}

// Sign-in: the token is checked against the API and kept in sessionStorage (this tab only).
export async function signIn(kinds, configPath = "/console/config") {
  const saved = token();
  if (saved) {
    try {
      const config = await api("GET", configPath);
      if (kinds.includes(config.actor.kind)) return config;
      say(`此页面需要${kinds.join("或")}令牌`, "error");
    } catch (err) {
      say(`令牌无效：${err.message}`, "error");
    }
    sessionStorage.removeItem(TOKEN_KEY);
  }
  const form = $("#signin");
  form.hidden = false;
  $("#app").hidden = true;
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $("#token", form).value.trim());
      try {
        const config = await api("GET", configPath);
        if (!kinds.includes(config.actor.kind)) throw new ApiError(403, `此页面需要${kinds.join("或")}令牌`);
        form.hidden = true;
        $("#app").hidden = false;
        say("已登录", "ok");
        resolve(config);
      } catch (err) {
        sessionStorage.removeItem(TOKEN_KEY);
        say(`登录失败：${err.message}`, "error");
      }
    });
  });
}

export function signOutButton() {
  return h("button", { class: "quiet", onclick: () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); } },
    "退出登录");
}

// The page's one websocket. Reconnects with back-off and sends the last sequence number it saw; the
// gateway replays what was missed, or says "resync" and the page refetches its state through the API.
export class LiveSocket {
  constructor({ onEvent, onResync, extraHello = () => ({}) }) {
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.extraHello = extraHello;
    this.epoch = null;
    this.lastSeq = null;
    this.delay = 500;
    this.connects = 0;
    this.stopped = false;
  }

  start() {
    this.connect();
    return this;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = (this.ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`));
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", token: token(), epoch: this.epoch, last_seq: this.lastSeq,
                               ...this.extraHello() }));
    };
    ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    ws.onclose = (event) => this.closed(event);
  }

  restart() {
    // e.g. the expert page changed its groups: a fresh hello, then catch up as after any reconnect.
    if (this.ws) this.ws.close(4000, "restart");
  }

  receive(message) {
    if (message.type === "welcome") {
      const first = this.epoch === null;
      this.connects += 1;
      this.delay = 500;
      this.epoch = message.epoch;
      this.lastSeq = message.seq;
      link("online");
      if (first || message.resync) this.onResync(first ? "load" : "resync");
    } else if (message.type === "event") {
      this.lastSeq = Math.max(this.lastSeq ?? 0, message.seq);
      try {
        this.onEvent(message);
      } catch (err) {
        console.error("event handler failed", message, err);
      }
    }
  }

  closed(event) {
    if (event.code === 4401 || event.code === 4403) {
      link("offline");
      say(`实时连接被拒绝：${event.reason}`, "error");
      return;
    }
    link("reconnecting");
    if (this.stopped) return;
    setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, 10000);
  }
}

function link(state) {
  const el = $("#link");
  if (!el) return;
  el.dataset.state = state;
  el.textContent = { online: "页面推送正常", reconnecting: "页面推送中断，正在重连…", offline: "页面推送未连接" }[state];
  el.title = "本页面与网关之间的实时推送（不代表电话系统或转写的状态）";
}

// The telephone system and live transcription, as the gateway sees them: shown in the header, polled,
// and handed to `onChange` so a page can disable what cannot work and say why.
export function watchSystems(initial, onChange, every = 15000) {
  const show = (systems) => {
    for (const [name, s] of Object.entries(systems)) {
      const el = $(`#sys-${name}`);
      if (!el) continue;
      el.dataset.up = s.up ? "yes" : "no";
      el.textContent = s.zh;
      el.title = s.detail || "";
    }
    onChange(systems);
  };
  show(initial);
  setInterval(() => api("GET", "/console/systems").then(show, () => {}), every);
}

// Calls a function at most once per `ms`, after the last trigger (refreshing boards on bursts of events).
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Calendar days are the centre's (config.timezone), not the browser's: a supervisor whose machine runs on UTC
// at 00:30 Beijing time still means "today" in Beijing, and a period's edges are midnights there.
export function centreDay(date, timeZone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// The instant a centre day starts, as ISO 8601 with the zone's own offset on that day.
export function centreMidnight(day, timeZone) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(new Date(`${day}T12:00:00Z`)).find((p) => p.type === "timeZoneName").value;
  return `${day}T00:00:00${name === "GMT" ? "+00:00" : name.slice(3)}`;
}

// A [start, end) query for the days from `first` to `last`, both included.
export function centrePeriod(first, last, timeZone) {
  return { start: centreMidnight(first, timeZone), end: centreMidnight(addDays(last, 1), timeZone) };
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit",
                                     minute: "2-digit", second: "2-digit" });
}

export function fmtSeconds(s) {
  if (s === null || s === undefined) return "—";
  const m = Math.floor(s / 60);
  return m ? `${m}分${String(Math.round(s % 60)).padStart(2, "0")}秒` : `${s}秒`;
}

export function pct(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

export const STATE_ZH = {
  available: "空闲", paused: "暂停", wrap_up: "整理", wrapup: "整理", logged_out: "签出", busy: "通话中", on_call: "通话中",
  new: "新来电", queued: "排队中", ringing: "振铃中", connected: "通话中", held: "保持中", consulting: "咨询专家中",
  conference: "三方通话中", transferred: "已转接", ended: "已结束",
};
