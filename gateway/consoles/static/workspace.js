// 工单工作台 (agents and supervisors): worklists with counts, search, and one ticket with its timeline,
// calls, links, requests and the actions the signed-in user may take now. Every button is the HTTP API.
import { $, $$, LiveSocket, act, addDays, api, centreMidnight, debounce, fill, fmtTime, h, say, signIn, signOutButton } from "./common.js";
import { attachmentLink, recordingPlayer } from "./files.js";
import { ACTION_ZH, CHANNEL_ZH, STATUS_ZH } from "./labels.js";

const ACTOR_ZH = { agent: "话务员", unit: "承办单位", admin: "班长", system: "系统", peer: "上级平台" };
const LEVEL_ZH = { normal: "正常", yellow: "即将超时", red: "已超时" };
const LINK_ZH = { call: "通话", recording: "录音", transcript: "转写", draft: "草稿", incident: "110警情", other: "备注" };
const REVIEWS = [["return", "退单"], ["extension", "延期"], ["reply", "答复"], ["termination", "终结"]];

const state = { config: null, units: new Map(), query: {}, title: "", offset: 0, limit: 30, rows: [], current: null };

async function main() {
  state.config = await signIn(["agent", "admin"]);
  const { actor } = state.config;
  $("#who").textContent = `${actor.kind === "admin" ? "班长" : "话务员"} ${actor.id}`;
  $("#header-actions").append(signOutButton());
  const form = $("#search");
  for (const c of state.config.policy.categories) form.category.append(h("option", { value: c.code }, c.zh));
  for (const [code, zh] of Object.entries(STATUS_ZH)) form.status.append(h("option", { value: code }, zh));
  for (const [code, zh] of Object.entries(CHANNEL_ZH)) form.channel.append(h("option", { value: code }, zh));
  const units = await api("GET", "/units");
  for (const u of units.items) {
    state.units.set(u.id, u.name);
    form.unit.append(h("option", { value: u.id }, u.name));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = {};
    for (const [name, value] of new FormData(form)) if (value) query[name] = value;
    // Dates are the centre's days, both included: start at the first day's midnight, end before the next day's.
    if (query.start) query.start = centreMidnight(query.start, state.config.timezone);
    if (query.end) query.end = centreMidnight(addDays(query.end, 1), state.config.timezone);
    search(query, "查询结果");
  });
  form.addEventListener("reset", () => setTimeout(() => search({}, "全部工单"), 0));
  $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); load(); });
  $("#next").addEventListener("click", () => { state.offset += state.limit; load(); });
  document.addEventListener("keydown", keys);
  const refresh = debounce(() => { worklists(); if (state.current) open(state.current, { quiet: true }); }, 500);
  new LiveSocket({ onEvent: (e) => e.kind.startsWith("ticket.") && refresh(), onResync: () => refresh() }).start();
  await worklists();
  const wanted = new URLSearchParams(location.search).get("ticket");
  await search({}, "全部工单");
  if (wanted) await open(wanted);
}

// ---- worklists and search ------------------------------------------------------------------------------

async function worklists() {
  const lists = await api("GET", "/worklists");
  fill($("#worklists"), lists.items.map((w, i) => h("li", {},
    h("button", { class: "worklist", "data-name": w.name, title: `Alt+${i + 1}`,
                  onclick: () => search({ worklist: w.name }, w.label) },
      w.label, h("span", { class: "badge count" }, w.count)))));
}

async function search(query, title) {
  state.query = query;
  state.title = title;
  state.offset = 0;
  await load();
}

async function load() {
  const asked = (state.asked = (state.asked || 0) + 1);
  const page = await act(null, "查询工单", () => api("GET", "/search/tickets",
    undefined, { query: { ...state.query, limit: state.limit, offset: state.offset } }));
  if (!page || asked !== state.asked) return; // a later search was started meanwhile: its answer counts
  state.rows = page.items;
  $("#results-title").textContent = `${state.title}（第 ${state.offset / state.limit + 1} 页）`;
  $("#prev").disabled = state.offset === 0;
  $("#next").disabled = !page.has_more;
  $("#page").textContent = page.items.length ? "" : "没有符合条件的工单";
  fill($("#results tbody"), page.items.map((t) => h("tr", {
    tabindex: 0, "data-number": t.number, class: state.current === t.number ? "selected" : "",
    onclick: () => open(t.number), onkeydown: (e) => { if (e.key === "Enter") open(t.number); },
  }, h("td", { class: "mono" }, t.number), h("td", {}, t.status_zh), h("td", {}, categoryZh(t.category)),
  h("td", {}, (t.title || t.content || "").slice(0, 40)), h("td", {}, unitName(t.lead_unit)),
  h("td", { class: `level-${t.sla?.level || "normal"}` }, t.sla ? LEVEL_ZH[t.sla.level] : "—"),
  h("td", {}, fmtTime(t.created_at)))));
}

function keys(event) {
  if (event.altKey && /^[1-9]$/.test(event.key)) {
    $$("#worklists button")[Number(event.key) - 1]?.click();
    event.preventDefault();
  } else if (event.altKey && event.key === "/") {
    $("#search [name=number]").focus();
    event.preventDefault();
  } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && event.target.closest?.("#results")) {
    const rows = $$("#results tbody tr");
    const at = rows.indexOf(event.target.closest("tr"));
    rows[Math.max(0, Math.min(rows.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))]?.focus();
    event.preventDefault();
  }
}

// ---- one ticket ---------------------------------------------------------------------------------------

async function open(number, { quiet = false } = {}) {
  const fetchAll = () => Promise.all([
    api("GET", `/tickets/${number}`), api("GET", `/tickets/${number}/timeline`),
    api("GET", `/tickets/${number}/requests`), api("GET", `/tickets/${number}/notes`),
    api("GET", `/tickets/${number}/contacts`), api("GET", `/tickets/${number}/attachments`),
    api("GET", `/tickets/${number}/calls`)]);
  const got = quiet ? await fetchAll().catch(() => null) : await act(null, `打开工单 ${number}`, fetchAll);
  if (!got) return;
  const [t, timeline, requests, notes, contacts, attachments, calls] = got;
  state.current = number;
  for (const row of $$("#results tbody tr")) row.classList.toggle("selected", row.dataset.number === number);
  $("#ticket-number").textContent = `${t.number} · ${t.status_zh}`;
  fill($("#ticket"), details(t), actions(t, requests.items),
    h("h3", {}, "通话与录音"), callsView(calls.items),
    h("h3", {}, "附件"), attachmentsView(attachments.items),
    h("h3", {}, "办理过程"), timelineView(timeline.items),
    h("h3", {}, "审核申请"), requestsView(requests.items),
    h("h3", {}, "回访与短信"), contactsView(contacts),
    h("h3", {}, "备注"), h("ul", { class: "list" }, notes.items.map((n) => h("li", {}, `${fmtTime(n.at)} ${n.author}：${n.text}`))));
  $("#ticket").classList.remove("empty");
}

function details(t) {
  const caller = t.caller || {};
  return h("dl", { class: "ticket" },
    h("dt", {}, "分类"), h("dd", {}, `${categoryZh(t.category)}${t.urgent ? "（紧急）" : ""}`),
    h("dt", {}, "渠道"), h("dd", {}, CHANNEL_ZH[t.channel] || t.channel),
    h("dt", {}, "来电人"), h("dd", {}, [caller.number, caller.name, caller.address].filter(Boolean).join(" · ") || "—",
      t.confidential ? h("span", { class: "badge" }, "保密") : null),
    h("dt", {}, "地点"), h("dd", {}, t.location || "—"),
    h("dt", {}, "标题"), h("dd", {}, t.title || "—"),
    h("dt", {}, "内容"), h("dd", { class: "content" }, t.content),
    h("dt", {}, "承办单位"), h("dd", {}, t.assignments.filter((a) => a.active).map((a) =>
      `${unitName(a.unit)}（${a.role === "lead" ? "主办" : "协办"}${a.signed_at ? "，已签收" : ""}）`).join("、") || "—"),
    h("dt", {}, "时限"), h("dd", { class: `level-${t.sla?.level || "normal"}` }, t.sla
      ? `${LEVEL_ZH[t.sla.level]}；签收 ${fmtTime(t.sla.sign_by)}；办结 ${fmtTime(t.sla.due_at)}` : "—"),
    h("dt", {}, "答复"), h("dd", {}, t.reply ? t.reply.text : "—"),
    h("dt", {}, "满意度"), h("dd", {}, t.satisfaction || "—"),
    t.supervise_level ? [h("dt", {}, "督办"), h("dd", {}, t.supervise_level === 2 ? "督办中" : "已催办")] : null);
}

function timelineView(events) {
  return h("ol", { class: "timeline" }, events.map((e) => h("li", {},
    h("span", { class: "when" }, fmtTime(e.at)), " ",
    h("b", {}, ACTION_ZH[e.action] || e.action), " ",
    h("span", { class: "who" }, `${ACTOR_ZH[e.actor.kind] || e.actor.kind} ${e.actor.kind === "unit" ? unitName(e.actor.id) : e.actor.id || ""}`),
    e.to && e.from !== e.to ? ` → ${STATUS_ZH[e.to] || e.to}` : "",
    e.reason ? h("div", { class: "why" }, `原因：${e.reason}`) : null,
    linkView(e))));
}

function linkView(e) {
  if (e.action !== "link" || !e.data) return null;
  const kind = e.data.kind, ref = e.data.ref;
  if (!kind) return null;
  return h("div", { class: "why" }, `${LINK_ZH[kind] || kind}：${ref || ""}`);
}

function callsView(calls) {
  if (!calls.length) return h("p", { class: "empty" }, "无");
  return h("ul", { class: "list calls" }, calls.map((c) => h("li", { "data-call": c.id },
    `${fmtTime(c.started_at)} ${c.direction === "outbound" ? "呼出" : "来电"}`,
    c.agent_id ? ` · 话务员 ${c.agent_id}` : "", c.talk_seconds ? ` · 通话 ${c.talk_seconds} 秒` : "", " ",
    c.recording_url ? recordingPlayer(c.recording_url, `通话 ${c.id} 录音`) : h("span", { class: "hint" }, "无录音"),
    transcriptView(c.transcript || []))));
}

const SPEAKER_ZH = { citizen: "市民", agent: "话务员" };

function transcriptView(lines) {
  if (!lines.length) return null;
  return h("details", { class: "transcript" }, h("summary", {}, `通话转写（${lines.length} 句）`),
    h("ol", {}, lines.map((l) => h("li", {}, l.speaker ? `${SPEAKER_ZH[l.speaker] || l.speaker}：` : "",
      l.start != null ? h("span", { class: "hint" }, `[${Math.floor(l.start)}s] `) : "", l.text))));
}

function attachmentsView(items) {
  if (!items.length) return h("p", { class: "empty" }, "无");
  return h("ul", { class: "list attachments" }, items.map((a) => h("li", {}, attachmentLink(a),
    ` — ${a.uploaded_by.kind === "unit" ? unitName(a.uploaded_by.id) : a.uploaded_by.id} ${fmtTime(a.at)}`)));
}

const SURVEY_ZH = { pending: "待回复", answered: "已回复", defaulted: "未回复视为满意", expired: "回访失败（未回复）",
                    cancelled: "已取消" };

function contactsView({ surveys, sms }) {
  if (!surveys.length && !sms.length) return h("p", { class: "empty" }, "无");
  return h("ul", { class: "list contacts" },
    surveys.map((s) => h("li", {}, `${fmtTime(s.created_at)} 回访（第 ${s.round + 1} 轮，${s.channel === "none" ? "无号码" : s.channel}）：`,
      `${SURVEY_ZH[s.status] || s.status}${s.level ? `，${s.level}` : ""}${s.outcome ? `，${s.outcome === "reopened" ? "重办" : "办结"}` : ""}`)),
    sms.map((m) => h("li", {}, `${fmtTime(m.created_at)} 短信 → ${m.to}（${m.status}）：${m.text}`)));
}

function requestsView(items) {
  if (!items.length) return h("p", { class: "empty" }, "无");
  return h("ul", { class: "list" }, items.map((r) => h("li", {},
    `${fmtTime(r.requested_at)} ${unitName(r.unit)} 申请${REVIEWS.find(([k]) => k === r.kind)?.[1] || r.kind}`,
    r.working_days ? ` ${r.working_days} 个工作日` : "", `：${r.reason}`,
    r.basis ? `（依据：${r.basis}）` : "", ` — ${r.status === "pending" ? "待审核" : r.status === "approved" ? "已同意" : "已驳回"}`,
    r.note ? `（${r.note}）` : "",
    r.evidence?.length ? h("div", { class: "why" }, "材料：", r.evidence.map((a) => attachmentLink(a))) : null)));
}

function actions(t, requests) {
  const allowed = new Set(t.allowed_actions);
  const box = h("div", { class: "actions" });
  const run = (button, label, method, path, body) => act(button, label, async () => {
    await api(method, `/tickets/${t.number}${path}`, body);
    await Promise.all([open(t.number, { quiet: true }), worklists(), load()]);
  });
  if (allowed.has("accept")) {
    const b = h("button", { onclick: () => run(b, "受理", "POST", "/accept", {}) }, "受理");
    box.append(h("div", { class: "row" }, b));
  }
  if (allowed.has("dispatch")) {
    const select = h("select", { id: "dispatch-unit", "aria-label": "主办单位" },
      [...state.units].map(([id, name]) => h("option", { value: id, selected: id === t.lead_unit }, name)));
    const note = h("input", { id: "dispatch-note", placeholder: "转派说明（可选）" });
    const b = h("button", { id: "dispatch", class: "primary", onclick: () => run(b, "转派", "POST", "/dispatch",
      { lead_unit: select.value, note: note.value || null }) }, "转派");
    box.append(h("div", { class: "row" }, h("label", {}, "主办单位 ", select), note, b));
  }
  for (const [kind, zh] of REVIEWS) {
    if (!allowed.has(`approve_${kind}`)) continue;
    const request = requests.find((r) => r.kind === kind && r.status === "pending");
    const note = h("input", { class: "review-note", placeholder: "审核意见" });
    const decide = (approve) => {
      const b = h("button", { class: approve ? "primary" : "danger", "data-review": `${kind}-${approve ? "approve" : "reject"}`,
        onclick: () => run(b, `${approve ? "同意" : "驳回"}${zh}`, "POST", `/${kind}/review`,
          { approve, note: note.value || (approve ? "同意" : "不同意") }) }, `${approve ? "同意" : "驳回"}${zh}`);
      return b;
    };
    box.append(h("div", { class: "row review" },
      h("span", {}, `${zh}审核${request ? `（${unitName(request.unit)}：${request.reason}）` : ""}`,
        kind === "reply" && t.reply ? `（${unitName(t.lead_unit)}：${t.reply.text}）` : ""),
      note, decide(true), decide(false)));
  }
  if (allowed.has("supervise")) {
    const note = h("input", { placeholder: "催办/督办意见" });
    const level = (n, label) => { const b = h("button", { onclick: () => run(b, label, "POST", "/supervise",
      { level: n, note: note.value || label }) }, label); return b; };
    box.append(h("div", { class: "row" }, note, level(1, "催办"), level(2, "督办")));
  }
  for (const [action, label, path] of [["reopen", "重办", "/reopen"], ["close", "办结", "/close"], ["withdraw", "撤单", "/withdraw"]]) {
    if (!allowed.has(action)) continue;
    const reason = h("input", { placeholder: `${label}原因` });
    const b = h("button", { onclick: () => run(b, label, "POST", path, { reason: reason.value || label }) }, label);
    box.append(h("div", { class: "row" }, reason, b));
  }
  if (!box.childElementCount) box.append(h("p", { class: "hint" }, "当前没有可执行的操作"));
  return box;
}

function unitName(id) {
  return id ? state.units.get(id) || id : "—";
}

function categoryZh(code) {
  return state.config.policy.categories.find((c) => c.code === code)?.zh || code;
}

main().catch((err) => say(`页面出错：${err.message}`, "error"));
