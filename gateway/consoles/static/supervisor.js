// 班长监控台: wallboard, agents with listen / whisper / barge, SLA warnings by unit, hotspot alerts,
// satisfaction and on-time charts over a chosen period, and the review queue.
import { $, act, addDays, api, centreDay, centrePeriod, debounce, fill, fmtSeconds, fmtTime, h, LiveSocket, pct, say, signIn, signOutButton, STATE_ZH, token }
  from "/console/static/common.js";
import { barChart, staffingChart } from "/console/static/charts.js";
import { setUpPerformance } from "/console/static/performance.js";

const EXT_KEY = "hotline.extension";
const KIND_ZH = { return: "退单", extension: "延期", termination: "终结", reply: "答复" };
const SPY_ZH = { listen: "监听", whisper: "密语", barge: "强插" };
let config;
const alerts = [];

async function main() {
  config = await signIn(["admin"]);
  $("#app").hidden = false;
  $("#who").textContent = `班长 ${config.actor.id}`;
  $("#header-actions").append(signOutButton());
  $("#extension").value = sessionStorage.getItem(EXT_KEY) || "";
  $("#extension").addEventListener("change", () => sessionStorage.setItem(EXT_KEY, $("#extension").value.trim()));
  const today = centreDay(new Date(), config.timezone);
  $("#period").elements.start.value = `${today.slice(0, 8)}01`;
  $("#period").elements.end.value = today;
  setUpPerformance(config.timezone);
  $("#period").addEventListener("submit", (event) => { event.preventDefault(); act(null, "统计", charts); });
  const socket = new LiveSocket({ onEvent, onResync: resync }).start();
  window.__console = { socket };
  setInterval(() => board().catch(() => {}), 5000); // waiting times grow between events
}

async function resync() {
  alerts.length = 0;
  await Promise.all([board(), sla(), reviews(), charts(), forecast(), qa()].map((p) => p.catch((err) => say(err.message, "error"))));
}

const boardSoon = debounce(() => board().catch(() => {}), 300);
const ticketsSoon = debounce(() => { sla().catch(() => {}); reviews().catch(() => {}); }, 800);

function onEvent({ kind, data, seq, at }) {
  if (kind.startsWith("call.") || kind.startsWith("agent.") || kind === "pbx.resynced") boardSoon();
  if (kind.startsWith("ticket.")) ticketsSoon();
  if (kind === "hotspot.warning") {
    alerts.unshift({ seq, at, ...data });
    renderAlerts();
  }
}

// ---- wallboard -----------------------------------------------------------------------------------------

async function board() {
  const b = await api("GET", "/console/wallboard");
  $("#pbx").textContent = b.pbx === "connected" ? "交换机已连接" : `交换机：${b.pbx}`;
  const onCall = (b.agents_by_state.on_call || 0) + (b.agents_by_state.ringing || 0);
  const tile = (label, value, warn) => h("div", { class: `tile${warn ? " warn" : ""}` }, h("b", {}, value), h("span", {}, label));
  const s = b.agents_by_state;
  fill($("#tiles"),
    tile("排队人数", b.waiting, b.waiting > 0), tile("最长等待", fmtSeconds(b.longest_wait_seconds), b.longest_wait_seconds > config.answer_target_seconds),
    tile("空闲 / 通话", `${s.available || 0} / ${onCall}`), tile("暂停 / 整理 / 签出", `${s.paused || 0} / ${s.wrap_up || 0} / ${s.logged_out || 0}`),
    tile(`今日来电（${config.answer_target_seconds}秒内接通，自来电起）`, `${b.today.offered}（${b.today.answered_within_target_of_arrival}）`),
    tile(`今日${config.answer_target_seconds}秒接通率（自来电起 / 自入队起）`, `${pct(b.today.service_level)} / ${pct(b.today.service_level_of_queue_join)}`),
    tile("今日放弃（语音导航 / 排队）", `${b.today.abandoned_in_entry} / ${b.today.abandoned_in_queue}`, b.today.abandoned > 0),
    tile("24小时接通率", pct(b.last_24h.connection_rate), b.last_24h.connection_rate !== null && b.last_24h.connection_rate < 0.95),
    tile("24小时来电", b.last_24h.offered), tile("24小时放弃率", pct(b.last_24h.abandonment_rate)),
    tile("今日导航时长 p50 / p95", `${fmtSeconds(b.today.entry_seconds_p50)} / ${fmtSeconds(b.today.entry_seconds_p95)}`));
  fill($("#queues"), h("tr", {}, ["队列", "来电", "接通", `${config.answer_target_seconds}秒内接通（来电起 / 入队起）`, "导航放弃", "排队放弃", "转接",
    "导航时长 p50 / p95", "平均等待", "平均通话"].map((t) => h("th", {}, t))),
    b.today.queues.map((q) => h("tr", {}, [q.queue ?? "语音导航", q.offered, q.answered,
      `${q.answered_within_target_of_arrival} / ${q.answered_within_target_of_queue_join}`, q.abandoned_in_entry, q.abandoned_in_queue,
      q.transferred, `${fmtSeconds(q.entry_seconds_p50)} / ${fmtSeconds(q.entry_seconds_p95)}`,
      fmtSeconds(q.avg_hold_seconds), fmtSeconds(q.avg_talk_seconds)].map((v) => h("td", {}, v ?? "—")))));
  fill($("#agents"), h("tr", {}, ["工号", "姓名", "质检（最近一周均分）", "状态", "原因", "自", "当前通话", "插入"].map((t) => h("th", {}, t))),
    b.agents.map((a) => h("tr", { "data-agent": a.agent_id },
      h("td", {}, a.agent_id), h("td", {}, a.name || "—"), h("td", {}, qualityOf(a.agent_id)),
      h("td", {}, a.call ? `${STATE_ZH[a.state] || a.state} · ${STATE_ZH[a.call.state] || a.call.state}` : STATE_ZH[a.state] || a.state),
      h("td", {}, a.pause_reason || ""), h("td", {}, fmtTime(a.state_since)), h("td", { class: "mono" }, a.call?.call_id || ""),
      h("td", {}, Object.entries(SPY_ZH).map(([mode, label]) => h("button", { disabled: a.state === "logged_out",
        onclick: (ev) => act(ev.currentTarget, `${label} ${a.agent_id}`, () => {
          const supervisor = $("#extension").value.trim();
          if (!supervisor) throw new Error("请先填写您的分机号");
          return api("POST", `/agents/${a.agent_id}/spy`, { supervisor, mode });
        }) }, label))))));
  if (b.alerts && !alerts.length) {
    alerts.push(...b.alerts);
    renderAlerts();
  }
}

function renderAlerts() {
  fill($("#alerts"), alerts.length ? alerts.slice(0, 20).map((a) => h("li", {},
    `${fmtTime(a.at)} · ${a.category || ""} · ${a.place || "地点不详"} · ${a.unit || ""} · ${(a.call_keys || []).length} 通相似来电`))
    : h("li", { class: "empty" }, "暂无热点预警"));
}

// ---- SLA, charts, reviews ----------------------------------------------------------------------------------

async function sla() {
  const board = await api("GET", "/console/sla-board");
  fill($("#sla"), board.units.length ? board.units.map((u) => h("details", { open: u.red > 0 },
    h("summary", {}, `${u.name || u.unit} `, h("span", { class: "level-red" }, `红 ${u.red}`), " ",
      h("span", { class: "level-yellow" }, `黄 ${u.yellow}`)),
    h("table", {}, u.tickets.map((t) => h("tr", {},
      h("td", {}, t.number), h("td", { class: `level-${t.level}` }, t.level === "red" ? "超时" : "将超时"),
      h("td", {}, t.title || ""), h("td", {}, `办结时限 ${fmtTime(t.due_at)}`))))))
    : h("p", { class: "empty" }, "没有黄色或红色预警的工单"));
}

async function charts() {
  const f = $("#period").elements;
  const query = (by) => ({ ...centrePeriod(f.start.value, f.end.value, config.timezone), by });
  const [byUnit, byCategory, redispatch] = await Promise.all([
    api("GET", "/stats/tickets", undefined, { query: query("unit") }),
    api("GET", "/stats/tickets", undefined, { query: query("category") }),
    api("GET", "/stats/redispatch", undefined, { query: query("unit") })]);
  const units = Object.fromEntries((await api("GET", "/units")).items.map((u) => [u.id, u.name]));
  const zh = Object.fromEntries(config.policy.categories.map((c) => [c.code, c.zh]));
  const rows = (items, label, rate) => items.map((i) => ({ label: label(i), rate: i[`${rate}_rate`],
    detail: `${i[`${rate}_count`][0]} / ${i[`${rate}_count`][1]}` }));
  fill($("#charts"),
    h("div", { class: "chart" }, barChart("满意率 · 按承办单位", rows(byUnit.items, (i) => units[i.unit] || i.unit, "satisfied"))),
    h("div", { class: "chart" }, barChart("按时办结率 · 按承办单位", rows(byUnit.items, (i) => units[i.unit] || i.unit, "on_time"))),
    h("div", { class: "chart" }, barChart("满意率 · 按诉求分类", rows(byCategory.items, (i) => zh[i.category] || i.category, "satisfied"))),
    h("div", { class: "chart" }, barChart("按时办结率 · 按诉求分类", rows(byCategory.items, (i) => zh[i.category] || i.category, "on_time"))),
    h("div", { class: "chart" }, barChart("改派率 · 按首派单位", rows(redispatch.items, (i) => units[i.unit] || i.unit, "redispatched"))));
}

// ---- forecast and staffing (GET /forecast) ------------------------------------------------------------------

async function forecast() {
  let f;
  try {
    f = await api("GET", "/forecast", undefined, { query: { days: 7 } });
  } catch (err) {
    fill($("#forecast"), h("p", { class: "empty" }, err.message));  // e.g. fewer than two weeks of calls
    return;
  }
  const t = f.tomorrow, used = f.backtest.find((b) => b.method === f.method);
  fill($("#forecast"),
    h("p", {}, `明日 ${t.date}：预计来电 ${Math.round(f.days[0].calls)} 个；` +
      (t.misses.length ? `${t.misses.length} 个半小时按上周同日在线座席将达不到目标：${t.misses.join("、")}` : "按上周同日在线座席各时段均可达标") +
      (used ? `（模型 ${f.method}，回测 WAPE ${pct(used.wape)}）` : "")),
    t.slots.length ? h("div", { class: "chart" }, staffingChart("需在线座席（线）与预计在线座席（柱）", t.slots))
      : h("p", { class: "empty" }, "尚无座席状态记录：无法对比在线座席"),
    h("p", {}, `建议排班（${f.roster.agent_hours} 人时）：` +
      f.roster.shifts.map((s) => `${s.start} 起 ${s.hours} 小时 × ${s.agents}`).join("；")));
}

// ---- quality inspection (GET /qa/queue, /qa/trend) --------------------------------------------------------

const SEVERITY_ZH = { low: "轻", medium: "中", high: "重" };
let latestQuality = {};  // agent → their latest week in the QA trend, shown in the agents table

function qualityOf(agentId) {
  const t = latestQuality[agentId];
  return t ? `${t.mean_score}（${t.calls} 通）` : "—";
}

async function qa() {
  const [queue, trend] = await Promise.all([api("GET", "/qa/queue"), api("GET", "/qa/trend")]);
  latestQuality = Object.fromEntries(trend.items.map((t) => [t.agent_id, t]));  // weeks ascend: the last wins
  fill($("#qa-queue"), queue.items.length
    ? h("tbody", {}, ...queue.items.flatMap((c) => [
      h("tr", {}, h("th", { colspan: 4 }, `${c.call_id} · 座席 ${c.agent_id || "—"} · 工单 ${c.ticket_number || "—"} · 得分 ${c.score}`)),
      ...c.items.filter((f) => f.current).map((f) => h("tr", {},
        h("td", {}, `${SEVERITY_ZH[f.severity] || f.severity} · ${f.message}`),
        h("td", {}, `${f.speaker === "agent" ? "座席" : f.speaker === "citizen" ? "市民" : ""}：${f.text || ""}`),
        h("td", {}, f.start_seconds === null ? "" :
          h("button", { class: "quiet", onclick: () => play(c.call_id, f.start_seconds).catch((err) => say(err.message, "error")) },
            `▶ ${fmtSeconds(Math.floor(f.start_seconds))}`)),
        h("td", {}, f.verdict ? (f.verdict === "confirmed" ? "已确认" : "已驳回") :
          h("span", {},
            h("button", { onclick: () => act(null, "确认", () => verdict(f.id, "confirmed")) }, "确认"),
            h("button", { class: "quiet", onclick: () => act(null, "驳回", () => verdict(f.id, "dismissed")) }, "驳回")))))]))
    : h("tbody", {}, h("tr", {}, h("td", { class: "empty" }, "没有待复核的质检结果"))));
  fill($("#qa-trend"), h("thead", {}, h("tr", {}, ...["座席", "周", "通话", "平均分", "确认问题", "驳回"].map((t) => h("th", {}, t)))),
    h("tbody", {}, ...trend.items.map((t) => h("tr", {}, ...[t.agent_id || "—", t.week, t.calls, t.mean_score, t.confirmed, t.dismissed]
      .map((v) => h("td", {}, String(v)))))));
}

async function verdict(id, value) {
  await api("POST", `/qa/findings/${id}/review`, { verdict: value });
  await qa();
}

// The recording needs the supervisor's token, so it is fetched, then played from the evidence's time.
async function play(callId, seconds) {
  const response = await fetch(`/api/v1/qa/calls/${encodeURIComponent(callId)}/recording`,
    { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) throw new Error(response.status === 404 ? "没有这通电话的录音" : `HTTP ${response.status}`);
  const player = $("#qa-player");
  if (player.src) URL.revokeObjectURL(player.src);
  player.src = URL.createObjectURL(await response.blob());
  player.hidden = false;
  player.addEventListener("loadedmetadata", () => { player.currentTime = Math.max(0, seconds - 1); player.play(); }, { once: true });
}

async function reviews() {
  const pending = await api("GET", "/reviews");
  fill($("#reviews"), h("tr", {}, ["工单", "类型", "承办单位", "理由", "依据 / 天数", "申请时间", "审核时限", "意见"].map((t) => h("th", {}, t))),
    pending.items.length ? pending.items.map((r) => {
      const note = h("input", { placeholder: "审核意见" });
      const decide = (approve) => (ev) => act(ev.currentTarget, `${approve ? "批准" : "驳回"}${KIND_ZH[r.kind] || r.kind}`, async () => {
        await api("POST", `/tickets/${r.ticket}/${r.kind}/review`, { approve, note: note.value.trim() || (approve ? "同意" : "不同意") });
        await reviews();
      });
      return h("tr", { "data-request": r.id }, h("td", {}, r.ticket), h("td", {}, KIND_ZH[r.kind] || r.kind), h("td", {}, r.unit_name || r.unit),
        h("td", {}, r.reason || "", r.rule ? h("div", { class: "hint rule" }, `规则：${r.rule}`) : null), h("td", {}, r.working_days ? `${r.working_days} 个工作日` : r.basis || ""),
        h("td", {}, fmtTime(r.requested_at)), h("td", {}, fmtTime(r.review_by)),
        h("td", {}, note, h("button", { class: "primary", onclick: decide(true) }, "批准"), h("button", { onclick: decide(false) }, "驳回")));
    }) : h("tr", {}, h("td", { colspan: 8, class: "empty" }, "没有待审核的申请")));
}

main();
