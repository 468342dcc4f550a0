// 专家座席: warm transfers offered to this seat's groups show the ticket draft and the agent's note before
// the citizen is connected; the expert adds notes to the ticket, then accepts or declines.
import { $, act, api, fill, fmtTime, h, LiveSocket, signIn, signOutButton, STATE_ZH } from "/console/static/common.js";
import { evidenceLines, flagItems, markedText } from "/console/static/draft.js";

const GROUPS_KEY = "hotline.expertGroups";
const consults = new Map(); // call id → {sheet, ticket, notes, outcome}
let config;
let socket;

function groups() {
  const saved = JSON.parse(sessionStorage.getItem(GROUPS_KEY) || "null");
  return saved || config.experts.map((e) => e.name);
}

async function main() {
  config = await signIn(["agent", "admin"]);
  $("#app").hidden = false;
  $("#who").textContent = `专家 ${config.actor.id}`;
  $("#header-actions").append(signOutButton());
  fill($("#groups"), config.experts.map((e) => h("label", {},
    h("input", { type: "checkbox", value: e.name, checked: groups().includes(e.name), onchange: changeGroups }), e.label)));
  socket = new LiveSocket({ onEvent, onResync: resync, extraHello: () => ({ expert_groups: groups() }) }).start();
  window.__console = { socket, consults };
}

function changeGroups() {
  const chosen = [...document.querySelectorAll("#groups input:checked")].map((i) => i.value);
  sessionStorage.setItem(GROUPS_KEY, JSON.stringify(chosen));
  socket.restart();
  resync("groups");
}

async function resync() {
  const live = await api("GET", "/calls");
  for (const call of live.calls.filter((c) => c.state === "consulting")) await load(call.call_id, null);
  render();
}

async function load(callId, expert) {
  const sheet = await api("GET", `/console/calls/${encodeURIComponent(callId)}`);
  const group = expert || sheet.expert?.expert;
  if (!groups().includes(group)) return;
  const entry = consults.get(callId) || { outcome: null };
  entry.sheet = sheet;
  const number = sheet.call?.ticket_id;
  if (number) {
    [entry.ticket, entry.notes] = await Promise.all([
      api("GET", `/tickets/${number}`), api("GET", `/tickets/${number}/notes`).then((n) => n.items)]);
  }
  consults.set(callId, entry);
}

function onEvent({ kind, data }) {
  const callId = data.call_id || data.call_key;
  if (kind === "call.consulting" && groups().includes(data.expert)) {
    load(data.call_id, data.expert).then(render);
    return;
  }
  const entry = consults.get(callId);
  if (kind.startsWith("ticket.")) {
    for (const [id, e] of consults) if (e.ticket?.number === data.number) load(id, null).then(render);
    return;
  }
  if (!entry) return;
  if (kind === "call.transferred") entry.outcome = "done";
  if (kind === "call.transfer_cancelled" || kind === "call.transfer_failed") entry.outcome = "cancelled";
  if (kind.startsWith("call.") && entry.sheet) entry.sheet.call = { ...entry.sheet.call, ...data };
  if (kind === "draft.updated") entry.sheet.draft = data.draft;
  if (kind === "transcript.final") entry.sheet.transcript.push(data);
  render();
}

function render() {
  const cards = [...consults.entries()].reverse().map(([callId, e]) => card(callId, e));
  fill($("#consults"), cards.length ? cards : h("p", { class: "empty" }, "暂无转来的咨询"));
}

function card(callId, e) {
  const call = e.sheet.call || {};
  const t = e.ticket;
  const draft = e.sheet.draft;
  const category = t && config.policy.categories.find((c) => c.code === t.category);
  const expert = config.experts.find((x) => x.name === e.sheet.expert?.expert);
  const noteBox = h("textarea", { rows: 2, placeholder: "专家备注（附到工单）" });
  return h("article", { class: `panel consult ${e.outcome || ""}`, "data-call": callId },
    h("h2", {}, `${expert?.label || "专家咨询"} · 市民 ${call.caller || "（未显示）"}`,
      h("span", { class: "badge" }, e.outcome === "done" ? "已接通市民" : e.outcome === "cancelled" ? "已退回话务员"
        : STATE_ZH[call.state] || call.state || "")),
    h("p", { class: "hint" }, `话务员 ${e.sheet.expert?.actor || call.agent_id || ""} · 通话 ${callId} · ${fmtTime(call.answered_at)}`),
    t ? h("dl", { class: "ticket" },
      h("dt", {}, "工单"), h("dd", {}, `${t.number}（${t.status_zh}）`),
      h("dt", {}, "分类"), h("dd", {}, category?.zh || t.category),
      h("dt", {}, "紧急"), h("dd", {}, t.urgent ? "是" : "否"),
      h("dt", {}, "地点"), h("dd", {}, t.location || "—"),
      h("dt", {}, "标题"), h("dd", {}, t.title || "—"),
      h("dt", {}, "诉求"), h("dd", { class: "content" }, t.content))
      : h("p", { class: "empty" }, "话务员尚未登记工单"),
    draft ? [h("h3", {}, "语音草稿"), flagItems(draft), h("p", { class: "evidence" }, evidenceLines(draft, "unit")),
      h("p", { class: "source" }, markedText(draft))] : null,
    h("h3", {}, "话务员与专家备注"),
    h("ul", { class: "list notes" }, (e.notes || []).length ? e.notes.map((n) => h("li", {},
      h("span", { class: "role" }, `${n.role === "agent" ? "话务员" : n.role === "expert" ? "专家" : "班长"} ${n.author} ${fmtTime(n.at)}`),
      n.text)) : h("li", { class: "empty" }, "无")),
    h("div", { class: "row" }, noteBox, h("button", { onclick: (ev) => act(ev.currentTarget, "添加备注", async () => {
      if (!t) throw new Error("话务员尚未登记工单，备注无法附加");
      await api("POST", `/tickets/${t.number}/notes`, { text: noteBox.value.trim(), role: "expert" });
      await load(callId, null);
      render();
    }) }, "添加备注")),
    h("div", { class: "row" },
      h("button", { class: "primary", disabled: !!e.outcome, onclick: (ev) => act(ev.currentTarget, "接受转接",
        () => api("POST", `/calls/${encodeURIComponent(callId)}/expert/complete`)) }, "接受（接通市民）"),
      h("button", { disabled: !!e.outcome, onclick: (ev) => act(ev.currentTarget, "拒绝转接",
        () => api("POST", `/calls/${encodeURIComponent(callId)}/expert/cancel`)) }, "拒绝（退回话务员）")));
}

main();
