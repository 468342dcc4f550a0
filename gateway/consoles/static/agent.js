// 话务员工作台: seat state, the current call, its live transcript and prefilled draft ticket, call
// operations, ticket actions and knowledge-base suggestions. Every button calls the HTTP API.
import { $, $$, act, api, debounce, fill, fmtTime, h, LiveSocket, say, signIn, signOutButton, STATE_ZH,
  watchSystems } from "/console/static/common.js";
import { evidenceLines, flagItems, markedText } from "/console/static/draft.js";

const LIVE = ["new", "queued", "ringing", "connected", "held", "consulting", "conference"];
const state = {
  config: null, me: null, seatChanges: 0, units: [], waiting: new Set(),
  callId: null, call: null, transcript: [], partial: "", draft: null, ticket: null, dirty: new Set(),
};

async function main() {
  state.config = await signIn(["agent", "admin"]);
  $("#app").hidden = false;
  $("#who").textContent = `话务员 ${state.config.actor.id}`;
  $("#header-actions").append(signOutButton());
  fillSelects();
  loadDivisions();
  wireButtons();
  watchSystems(state.config.systems, onSystems);
  window.__console = { state, socket: new LiveSocket({ onEvent, onResync: resync }).start() };
}

function fillSelects() {
  const c = state.config;
  fill($("#pause-reason"), c.pause_reasons.map((r) => h("option", { value: r }, r)));
  fill($("#transfer-target"), c.transfer_targets.map((t) => h("option", { value: t.name }, `${t.name}（${t.number}）`)));
  fill($("#expert-group"), c.experts.map((e) => h("option", { value: e.name }, e.label)));
  fill($("#draft [name=category]"), c.policy.categories.map((cat) => h("option", { value: cat.code }, cat.zh)));
  fill($("#reject-code"), h("option", { value: "" }, "不予受理理由…"),
    c.policy.non_acceptance.map((i) => h("option", { value: i.code }, i.label)));
  $("#reject-code").addEventListener("change", () => {
    const item = c.policy.non_acceptance.find((i) => i.code === $("#reject-code").value);
    if (item) $("#guidance").value = item.guidance;
  });
  // A field the agent touched is theirs: later drafts never overwrite it.
  for (const field of $$("#draft [name]")) {
    field.addEventListener("input", () => state.dirty.add(field.name));
  }
}

// The place picker: the county's townships and communities (the divisions drafts resolve against), for a
// ticket typed without a call or a place the recogniser missed. Picking writes the place; the agent adds
// the road and house number after it.
async function loadDivisions() {
  const d = await api("GET", "/places/divisions").catch(() => null);
  if (!d) return;
  const none = (label) => h("option", { value: "" }, label);
  fill($("#place-town"), none(`${d.county}：乡镇/街道…`), d.townships.map((t) => h("option", { value: t.name }, t.name)));
  fill($("#place-community"), none("村/社区…"));
  const pick = () => {
    const town = $("#place-town").value;
    if (!town) return;
    $("#draft [name=location]").value = `${d.county}${town}${$("#place-community").value}`;
    state.dirty.add("location");
  };
  $("#place-town").addEventListener("change", () => {
    const town = d.townships.find((t) => t.name === $("#place-town").value);
    fill($("#place-community"), none("村/社区…"), (town?.communities ?? []).map((c) => h("option", { value: c }, c)));
    pick();
  });
  $("#place-community").addEventListener("change", pick);
}

// Call operations need the telephone system: while it is down their buttons are off, and say why.
function onSystems({ pbx, asr }) {
  for (const button of $$("#call .ops button, #seat button")) {
    button.disabled = !pbx.up;
    button.title = pbx.up ? "" : pbx.zh;
  }
  if (!asr.up) $("#speech-note").textContent = asr.zh;
}

// ---- state from the API (first load, and after a resync) -----------------------------------------

async function resync(why) {
  // A seat change while this load is in flight (签入 clicked, an agent.state event) is newer than the
  // state this load fetched: keep it.
  const seatChanges = state.seatChanges;
  try {
    const [me, calls, board, units] = await Promise.all([
      api("GET", `/agents/${state.config.actor.id}`).catch((err) => {
        say(`座席未登记（${err.message}），请联系班长登记座席`, "error");
        return null;
      }),
      api("GET", "/calls"), api("GET", "/console/wallboard"), api("GET", "/units"),
    ]);
    if (state.seatChanges === seatChanges) state.me = me;
    state.units = units.items.filter((u) => u.active);
    fill($("#draft [name=unit]"), h("option", { value: "" }, "（请选择）"),
      state.units.map((u) => h("option", { value: u.id }, u.name)));
    state.waiting = new Set(board.waiting_calls.map((w) => w.call_id));
    renderSeat();
    renderQueue();
    const seat = state.me;
    const mine = seat && calls.calls.find((c) => LIVE.includes(c.state) &&
      (c.agent_id === seat.agent_id || c.agent_interface === seat.interface));
    if (mine) await openCall(mine.call_id);
    else if (state.callId) await openCall(state.callId); // an ended call whose ticket is still being written
    if (why === "resync") say("已重新同步", "ok");
  } catch (err) {
    say(`加载失败：${err.message}`, "error");
  }
}

async function openCall(callId) {
  const sheet = await api("GET", `/console/calls/${encodeURIComponent(callId)}`);
  const fresh = state.callId !== callId;
  state.callId = callId;
  state.call = sheet.call;
  state.transcript = sheet.transcript;
  state.partial = sheet.partial;
  if (fresh) {
    state.ticket = null;
    state.dirty.clear();
    $("#draft").reset();
    state.draft = null;
    $("#draft [name=caller_number]").value = sheet.call?.caller || "";
  }
  if (sheet.draft) applyDraft(sheet.draft);
  if (sheet.speech_unavailable) $("#speech-note").textContent = `无实时转写（${sheet.speech_unavailable}）`;
  const linked = sheet.call?.ticket_id;
  if (linked && !state.ticket) state.ticket = await api("GET", `/tickets/${linked}`).catch(() => null);
  renderCall();
  renderTranscript();
  renderTicket();
  loadHistory();
  suggest();
}

// ---- live events -------------------------------------------------------------------------------------

function onEvent({ kind, data, board }) {
  if (kind.startsWith("call.") && board) {
    if (["new", "queued", "ringing"].includes(data.state) && !data.answered_at) state.waiting.add(data.call_id);
    else state.waiting.delete(data.call_id);
    renderQueue();
    return;
  }
  if (kind === "agent.state") {
    if (state.me && data.agent_id === state.me.agent_id) {
      state.me = data;
      state.seatChanges += 1;
      renderSeat();
    }
    return;
  }
  if (kind.startsWith("call.") && data.call_id) {
    state.waiting.delete(data.call_id);
    renderQueue();
    if (data.call_id !== state.callId) {
      if (LIVE.includes(data.state)) openCall(data.call_id).catch((err) => say(err.message, "error"));
      return;
    }
    state.call = { ...state.call, ...data };
    if (kind === "call.ringing" || kind === "call.connected") say(kind === "call.ringing" ? "来电振铃" : "已接通", "ok");
    if (kind === "call.transfer_failed") say("转接失败，市民仍在线", "error");
    if (kind === "call.held") say("市民保持中（听等待音乐）", "ok");
    if (kind === "call.resumed") say("已恢复通话", "ok");
    if (kind === "call.hold_requeued") say("保持超时或话机断开，市民已回到队列前列", "error");
    if (kind === "call.ended") say("通话已结束", "ok");
    renderCall();
    return;
  }
  const callKey = data.call_key;
  if (callKey && callKey === state.callId) {
    if (kind === "transcript.partial") state.partial = data.text;
    if (kind === "transcript.final") {
      state.transcript.push(data);
      state.partial = "";
      suggestSoon();
    }
    if (kind === "transcript.unavailable") $("#speech-note").textContent = `无实时转写（${data.reason}）`;
    if (kind === "draft.updated") applyDraft(data.draft);
    renderTranscript();
    return;
  }
  if (kind.startsWith("ticket.") && state.ticket && data.number === state.ticket.number) {
    api("GET", `/tickets/${data.number}`).then((t) => { state.ticket = t; renderTicket(); }, () => {});
  }
}

// ---- rendering --------------------------------------------------------------------------------------

function renderSeat() {
  const me = state.me;
  $("#seat-state").textContent = me ? `${STATE_ZH[me.state] || me.state}${me.pause_reason ? `（${me.pause_reason}）` : ""}` : "未登记";
  $("#seat-state").dataset.state = me?.state || "";
}

function renderQueue() {
  $("#queue-count").textContent = `排队 ${state.waiting.size} 人`;
}

function renderCall() {
  const c = state.call;
  if (!c) return fill($("#call-info"), "暂无来电");
  $("#call-info").classList.remove("empty");
  fill($("#call-info"), h("dl", {},
    h("dt", {}, "来电号码"), h("dd", { class: "caller" }, c.caller || "（未显示）"),
    c.caller_name ? [h("dt", {}, "姓名"), h("dd", {}, c.caller_name)] : null,
    h("dt", {}, "状态"), h("dd", { class: "call-state", "data-state": c.state }, STATE_ZH[c.state] || c.state),
    h("dt", {}, "队列"), h("dd", {}, c.queue || "—"),
    h("dt", {}, "接通时间"), h("dd", {}, fmtTime(c.answered_at)),
    c.state === "held" ? [h("dt", {}, "保持开始"), h("dd", { class: "held-since" }, fmtTime(c.held_at))] : null,
    c.holds && c.state !== "held" ? [h("dt", {}, "已保持"), h("dd", {}, `${c.holds} 次，共 ${c.on_hold_seconds || 0} 秒`)] : null,
    c.incident_id ? [h("dt", {}, "110警情号"), h("dd", {}, c.incident_id)] : null,
    h("dt", {}, "通话编号"), h("dd", { class: "mono" }, c.call_id)));
}

function renderTranscript() {
  fill($("#transcript"), state.transcript.map((line) => h("li", {}, line.text)));
  $("#partial").textContent = state.partial || "";
}

function applyDraft(draft) {
  state.draft = draft;
  const form = $("#draft");
  const set = (name, value) => {
    if (state.dirty.has(name) || value === undefined || value === null) return;
    form.elements[name].value = value;
  };
  const category = state.config.policy.categories.find((c) => c.zh === draft.category?.value);
  if (category) set("category", category.code);
  if (!state.dirty.has("urgent")) form.elements.urgent.checked = (draft.urgency?.value || "normal") !== "normal";
  set("location", draft.place?.value?.text ?? "");
  set("time", (draft.times || []).map((t) => t.value.text).join("，"));
  set("content", draft.summary?.value ?? "");
  set("title", titleFrom(draft));
  set("matter", draft.matter?.value?.name);
  const unit = draft.unit && state.units.find((u) => u.name === draft.unit.value || u.id === draft.unit.value);
  if (unit) set("unit", unit.id);
  for (const line of $$("#draft-panel .evidence")) line.textContent = evidenceLines(draft, line.dataset.for);
  fill($("#flags"), flagItems(draft));
  fill($("#draft-text"), markedText(draft));
}

function titleFrom(draft) {
  const place = draft.place?.value?.text;
  const what = (draft.summary?.value || "").replace(/^【.*?】来电人反映：/, "").slice(0, 24);
  return place ? `${place}：${what}` : what;
}

function renderTicket() {
  const t = state.ticket;
  $("#ticket-badge").textContent = t ? `工单 ${t.number} · ${t.status_zh}` : "未登记";
  const allowed = new Set(t ? t.allowed_actions : ["accept", "reject", "resolve_on_call", "update"]);
  $("#accept").disabled = !allowed.has("accept");
  $("#dispatch").disabled = !(allowed.has("dispatch") || allowed.has("accept"));
  $("#reject").disabled = !allowed.has("reject");
  $("#resolve").disabled = !allowed.has("resolve_on_call");
  $("#save").disabled = !allowed.has("update");
}

async function loadHistory() {
  const caller = state.call?.caller;
  if (!caller) return fill($("#history"), h("li", { class: "empty" }, "无号码"));
  try {
    const found = await api("GET", "/tickets", undefined, { query: { caller, limit: 5 } });
    fill($("#history"), found.items.length ? found.items.map((t) => h("li", {},
      h("b", {}, t.number), ` ${t.status_zh} · ${fmtTime(t.created_at)} · `, (t.title || t.content).slice(0, 40), " ",
      h("a", { href: `/console/tickets?ticket=${t.number}`, target: "_blank", rel: "noopener" }, "打开"), " ",
      state.callId ? h("button", { class: "link-call", "data-number": t.number, title: "本次来电记入该工单（重复来电）",
        onclick: (e) => act(e.currentTarget, "重复来电关联", () => linkCall(t, "repeat")) }, "重复来电") : null,
      state.callId && t.allowed_actions.includes("link") ? h("button", { class: "urge", title: "关联并记为催办",
        onclick: (e) => act(e.currentTarget, "催办", () => linkCall(t, "urge")) }, "催办") : null))
      : h("li", { class: "empty" }, "无历史工单"));
  } catch (err) {
    fill($("#history"), h("li", { class: "error" }, err.message));
  }
}

// A repeat call about an earlier ticket: the call is linked to it (and, for 催办, a note says the citizen
// pressed for it) instead of opening a new ticket.
async function linkCall(t, why) {
  await api("POST", `/tickets/${t.number}/links`, { kind: "call", ref: state.callId,
    meta: { reason: why === "urge" ? "催办" : "重复来电", agent: state.config.actor.id } });
  if (why === "urge") {
    await api("POST", `/tickets/${t.number}/notes`, { text: "市民来电催办", role: "agent" });
  }
  await api("PUT", `/calls/${encodeURIComponent(state.callId)}/ticket`, { ticket_id: t.number });
  state.ticket = await api("GET", `/tickets/${t.number}`);
  renderTicket();
  loadHistory();
}

// "Next ticket": a clean form for the next matter (a walk-in, a callback, a web message read out).
function nextTicket() {
  const ended = !state.call || !LIVE.includes(state.call.state);
  if (ended) {
    state.callId = null;
    state.call = null;
    state.transcript = [];
    state.partial = "";
    renderCall();
    renderTranscript();
    fill($("#history"));
  }
  state.ticket = null;
  state.draft = null;
  state.dirty.clear();
  $("#draft").reset();
  if (state.call) $("#draft [name=caller_number]").value = state.call.caller || "";
  fill($("#flags"));
  fill($("#draft-text"));
  for (const line of $$("#draft-panel .evidence")) line.textContent = "";
  renderTicket();
  $("#draft [name=caller_number]").focus();
  say("新工单：请填写来电人和诉求", "ok");
}

// ---- the ticket ---------------------------------------------------------------------------------------

function ticketFields() {
  const f = $("#draft").elements;
  const elements = {};
  if (f.time.value.trim()) elements.time = f.time.value.trim();
  if (f.unit.value) elements.suggested_unit = f.unit.value;
  // The matter code: closed tickets carry it to `hotline understanding train --from-tickets` and 退单 feedback.
  if (state.draft?.matter?.value?.code) elements.matter = state.draft.matter.value.code;
  if (state.draft?.flags && Object.keys(state.draft.flags).length) elements.draft_flags = Object.keys(state.draft.flags);
  if (f.matter.value.trim()) {
    elements.matter = f.matter.value.trim();
    const code = state.draft?.matter?.value;
    if (code?.name === elements.matter) elements.matter_code = code.code;
  }
  return { category: f.category.value, urgent: f.urgent.checked, title: f.title.value.trim(),
           content: f.content.value.trim(), location: f.location.value.trim() || null, elements,
           caller_name: f.caller_name.value.trim() || null, caller_address: f.caller_address.value.trim() || null,
           disclose_caller: f.disclose_caller.checked, confidential: f.confidential.checked };
}

// Registers the ticket (or saves edits) before any action on it; links it to the call.
async function saveTicket() {
  const fields = ticketFields();
  if (!state.ticket) {
    const number = $("#draft [name=caller_number]").value.trim() || state.call?.caller || null;
    state.ticket = await api("POST", "/tickets", { ...fields, caller_number: number,
      channel: state.callId ? "phone" : $("#draft [name=channel]").value,
      call_ref: state.callId || null, draft_ref: state.draft ? `call:${state.callId}` : null });
    if (state.callId) await api("PUT", `/calls/${encodeURIComponent(state.callId)}/ticket`, { ticket_id: state.ticket.number });
  } else if (state.ticket.allowed_actions.includes("update")) {
    state.ticket = await api("PATCH", `/tickets/${state.ticket.number}`, fields);
  }
  renderTicket();
  return state.ticket;
}

async function ticketAction(action, body) {
  const t = await saveTicket();
  state.ticket = await api("POST", `/tickets/${t.number}/${action}`, body);
  renderTicket();
  return state.ticket;
}

// ---- knowledge base -----------------------------------------------------------------------------------

function kbItem(hit) {
  return h("li", {},
    h("div", { class: "q", html: hit.highlight.question }),
    h("div", { class: "a", html: hit.highlight.answer }),
    h("button", { class: "quiet", onclick: () => { $("#answer").value = hit.answer; } }, "引用为答复"));
}

async function suggest() {
  const text = state.transcript.map((l) => l.text).join("，") + state.partial;
  if (!text.trim()) return fill($("#kb-suggest"), h("li", { class: "empty" }, "等待市民陈述…"));
  try {
    const found = await api("POST", "/kb/suggest", { text, limit: 3 });
    fill($("#kb-suggest"), found.results.length ? found.results.map(kbItem) : h("li", { class: "empty" }, "暂无推荐"));
  } catch (err) {
    fill($("#kb-suggest"), h("li", { class: "error" }, err.message));
  }
}
const suggestSoon = debounce(suggest, 1200);

// ---- buttons -------------------------------------------------------------------------------------------

function wireButtons() {
  const me = () => state.config.actor.id;
  const call = () => {
    if (!state.callId) throw new Error("当前没有通话");
    return `/calls/${encodeURIComponent(state.callId)}`;
  };
  const on = (id, label, action) => $(id).addEventListener("click", (event) => {
    event.preventDefault();
    act(event.currentTarget, label, action);
  });
  const seat = async (path, body) => {
    state.me = await api("POST", `/agents/${me()}/${path}`, body);
    state.seatChanges += 1;
    renderSeat();
  };

  on("#login", "签入", () => seat("login"));
  on("#ready", "就绪", () => seat("ready"));
  on("#pause", "暂停", () => seat("pause", { reason: $("#pause-reason").value }));
  on("#wrapup", "整理", () => seat("pause", { reason: "整理工单" }));
  on("#logout", "签出", () => seat("logout"));

  on("#transfer", "一键转接", () => api("POST", `${call()}/transfer`, { target: $("#transfer-target").value }));
  on("#expert", "转专家", async () => {
    const path = call();
    const ticket = await saveTicket();
    const note = $("#expert-note").value.trim();
    if (note) await api("POST", `/tickets/${ticket.number}/notes`, { text: note, role: "agent" });
    return api("POST", `${path}/expert`, { expert: $("#expert-group").value });
  });
  on("#expert-complete", "完成专家转接", () => api("POST", `${call()}/expert/complete`));
  on("#expert-cancel", "取消专家咨询", () => api("POST", `${call()}/expert/cancel`));
  on("#conference", "三方通话", () => api("POST", `${call()}/conference`, { party: $("#party").value.trim() }));
  on("#conference-110", "三方通话（110）", () => api("POST", `${call()}/conference`, { party: state.config.police_number }));
  on("#conference-leave", "退出三方", () => api("POST", `${call()}/conference/leave`));
  on("#hold", "保持", () => api("POST", `${call()}/hold`));
  on("#resume", "恢复通话", () => api("POST", `${call()}/resume`));
  on("#hangup", "挂断", () => api("POST", `${call()}/hangup`));
  on("#police", "转110", async () => {
    const path = call();
    const f = ticketFields();
    return api("POST", `${path}/police`, { summary: f.content, location: f.location || "", category: f.category,
      urgent: f.urgent, ticket_id: state.ticket?.number || null, emergency: state.draft?.flags?.emergency?.value || null });
  });

  on("#save", "保存登记", saveTicket);
  $("#next-ticket").addEventListener("click", (event) => { event.preventDefault(); nextTicket(); });
  on("#accept", "受理", () => ticketAction("accept", {}));
  on("#dispatch", "转派", async () => {
    const unit = $("#draft [name=unit]").value;
    if (!unit) throw new Error("请先选择承办单位");
    const t = await saveTicket();
    if (t.allowed_actions.includes("accept")) await ticketAction("accept", {});
    return ticketAction("dispatch", { lead_unit: unit });
  });
  on("#reject", "不予受理", () => {
    const code = $("#reject-code").value;
    if (!code) throw new Error("请选择不予受理理由");
    return ticketAction("reject", { reason_code: code, guidance: $("#guidance").value.trim() });
  });
  on("#resolve", "直接答复", () => ticketAction("resolve", { answer: $("#answer").value.trim() }));

  $("#kb-search").addEventListener("submit", (event) => {
    event.preventDefault();
    act(null, "搜索知识库", async () => {
      const found = await api("GET", "/kb/search", undefined, { query: { q: $("#kb-q").value.trim() } });
      fill($("#kb-results"), found.results.length ? found.results.map(kbItem) : h("li", { class: "empty" }, "没有找到"));
    });
  });
}

main();
