// 承办单位工作台: the unit's inbox by SLA urgency with working-time countdowns, the masked ticket, and
// 签收 / 退单 / 延期 / 答复 through the same HTTP API a unit's own system would call. Units get no live
// stream (the websocket refuses them), so the inbox is polled and new or reopened tickets are announced.
import { $, $$, act, api, centreDay, centrePeriod, fill, fmtTime, h, pct, say, signIn, signOutButton } from "./common.js";
import { attachmentLink, uploadAll } from "./files.js";
import { ACTION_ZH, STATUS_ZH } from "./labels.js";

const ACCEPT = ".png,.jpg,.jpeg,.gif,.webp,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx";

const OPEN = "dispatched,signed,return_requested,termination_requested";
const POLL_MS = 30000;
const state = { config: null, seen: null, current: null };

async function main() {
  state.config = await signIn(["unit"], "/console/unit");
  $("#who").textContent = state.config.unit.name;
  $("#header-actions").append(signOutButton());
  const today = centreDay(new Date(), state.config.timezone);
  const form = $("#period");
  form.end.value = today;
  form.start.value = `${today.slice(0, 8)}01`;
  form.addEventListener("submit", (e) => { e.preventDefault(); stats(); });
  await Promise.all([inbox(), stats(), surveyed()]);
  setInterval(inbox, POLL_MS);
}

// The next deadline that matters: signing while unsigned, then the handling due date.
function deadline(t) {
  const mine = t.assignments.find((a) => a.active && a.unit === state.config.unit.id);
  const by = mine && !mine.signed_at ? mine.sign_by : t.sla?.due_at;
  return by ? new Date(by).getTime() : Infinity;
}

function left(t) {
  const s = t.sla?.working_seconds_left;
  if (s === null || s === undefined) return "—";
  const hours = Math.abs(s) / 3600;
  return s < 0 ? `已超时 ${hours.toFixed(1)} 工作小时` : `${hours.toFixed(1)} 工作小时`;
}

async function inbox() {
  const page = await api("GET", "/search/tickets", undefined, { query: { status: OPEN, limit: 200 } }).catch((err) => {
    say(`待办刷新失败：${err.message}`, "error");
    return null;
  });
  if (!page) return;
  const items = page.items.sort((a, b) => deadline(a) - deadline(b));
  const keys = new Set(items.map((t) => `${t.number}:${t.reopen_count}`));
  if (state.seen) {
    const fresh = [...keys].filter((k) => !state.seen.has(k));
    if (fresh.length) $("#notice").textContent = `新到或重办工单 ${fresh.length} 件：${fresh.map((k) => k.split(":")[0]).join("、")}`;
  }
  state.seen = keys;
  $("#inbox-count").textContent = `${items.length} 件`;
  fill($("#inbox tbody"), items.map((t) => h("tr", {
    tabindex: 0, "data-number": t.number, class: state.current === t.number ? "selected" : "",
    onclick: () => open(t.number), onkeydown: (e) => { if (e.key === "Enter") open(t.number); },
  }, h("td", { class: "mono" }, t.number), h("td", {}, t.status_zh), h("td", {}, (t.title || t.content).slice(0, 30)),
  h("td", {}, fmtTime(t.sla?.sign_by)), h("td", {}, fmtTime(t.sla?.due_at)),
  h("td", { class: `countdown level-${t.sla?.level || "normal"}` }, left(t)))));
}

async function surveyed() {
  const page = await api("GET", "/search/tickets", undefined, { query: { status: "closed,surveying", limit: 20 } });
  fill($("#surveyed"), page.items.map((t) => h("li", {}, `${t.number} ${t.status_zh} — 满意度：${t.satisfaction || "待回访"}`)));
}

async function stats() {
  const form = $("#period");
  const query = { ...centrePeriod(form.start.value, form.end.value, state.config.timezone), by: "unit" };
  const got = await act(null, "统计", () => api("GET", "/stats/tickets", undefined, { query }));
  const row = got?.items?.[0];
  if (!row) return fill($("#stats"), h("dd", { class: "empty" }, "该期间无数据"));
  const figure = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  fill($("#stats"), figure("派发工单", row.dispatched), figure("签收及时率", pct(row.sign_on_time_rate)),
    figure("按时办结率", pct(row.on_time_rate)), figure("满意率", pct(row.satisfied_rate)),
    figure("退单率", pct(row.returned_rate)), figure("延期率", pct(row.extended_rate)), figure("重办率", pct(row.reopened_rate)));
}

async function open(number) {
  const got = await act(null, `打开工单 ${number}`, () => Promise.all([
    api("GET", `/tickets/${number}`), api("GET", `/tickets/${number}/timeline`), api("GET", `/tickets/${number}/requests`)]));
  if (!got) return;
  const [t, timeline, requests] = got;
  state.current = number;
  for (const row of $$("#inbox tbody tr")) row.classList.toggle("selected", row.dataset.number === number);
  $("#ticket-number").textContent = `${t.number} · ${t.status_zh}`;
  const caller = t.caller || {};
  fill($("#ticket"),
    h("dl", {}, h("dt", {}, "来电人"), h("dd", {}, [caller.number, caller.name, caller.address].filter(Boolean).join(" · ") || "—"),
      h("dt", {}, "地点"), h("dd", {}, t.location || "—"), h("dt", {}, "内容"), h("dd", { class: "content" }, t.content),
      h("dt", {}, "时限"), h("dd", { class: `level-${t.sla?.level || "normal"}` }, `签收 ${fmtTime(t.sla?.sign_by)}；办结 ${fmtTime(t.sla?.due_at)}；剩余 ${left(t)}`),
      t.reply ? [h("dt", {}, "答复"), h("dd", {}, t.reply.text, h("ul", { class: "list attachments" },
        t.reply.attachments.map((a) => h("li", {}, attachmentLink(a)))))] : null),
    actions(t),
    h("h3", {}, "办理过程"),
    h("ol", { class: "timeline" }, timeline.items.map((e) => h("li", {}, h("span", { class: "when" }, fmtTime(e.at)), " ",
      h("b", {}, ACTION_ZH[e.action] || e.action), e.to && e.from !== e.to ? ` → ${STATUS_ZH[e.to] || e.to}` : "",
      e.reason ? h("div", { class: "why" }, e.reason) : null))),
    h("h3", {}, "本单位的申请"),
    h("ul", { class: "list" }, requests.items.map((r) => h("li", {}, `${fmtTime(r.requested_at)} ${r.kind === "extension" ? "延期" : r.kind === "return" ? "退单" : "终结"}：${r.reason} — ${r.status === "pending" ? "待审核" : r.status === "approved" ? "已同意" : "已驳回"}${r.note ? `（${r.note}）` : ""}`))));
  $("#ticket").classList.remove("empty");
}

function actions(t) {
  const allowed = new Set(t.allowed_actions);
  const box = h("div", { class: "actions" });
  // ``body`` may be a function: it runs inside the action (uploads first, then the request that cites them).
  const run = (button, label, path, body) => act(button, label, async () => {
    await api("POST", `/tickets/${t.number}${path}`, typeof body === "function" ? await body() : body);
    await Promise.all([open(t.number), inbox()]);
  });
  if (allowed.has("sign")) {
    const b = h("button", { id: "sign", class: "primary", onclick: () => run(b, "签收", "/sign") }, "签收");
    box.append(h("div", { class: "row" }, b));
  }
  if (allowed.has("request_extension")) {
    const days = h("input", { id: "ext-days", type: "number", min: 1, max: 60, value: 1, "aria-label": "延期工作日" });
    const reason = h("input", { id: "ext-reason", placeholder: "延期理由" });
    const b = h("button", { id: "extension", onclick: () => run(b, "申请延期", "/extension",
      { working_days: Number(days.value), reason: reason.value }) }, "申请延期");
    box.append(h("div", { class: "row" }, days, "个工作日", reason, b));
  }
  if (allowed.has("request_return")) {
    const reason = h("input", { id: "return-reason", placeholder: "退单理由" });
    const basis = h("input", { id: "return-basis", placeholder: "依据（法规、三定方案、职责清单）" });
    const files = h("input", { id: "return-files", type: "file", multiple: true, accept: ACCEPT, "aria-label": "退单证明材料" });
    const b = h("button", { id: "return", class: "danger", onclick: () => run(b, "申请退单", "/return",
      async () => ({ reason: reason.value, basis: basis.value, evidence: await uploadAll(t.number, files) })) }, "申请退单");
    box.append(h("div", { class: "row" }, reason, basis, h("label", {}, "证明材料 ", files), b));
  }
  if (allowed.has("reply")) {
    const text = h("textarea", { id: "reply-text", rows: 3, placeholder: "办理结果（答复市民的内容）" });
    const files = h("input", { id: "reply-files", type: "file", multiple: true, accept: ACCEPT, "aria-label": "答复附件" });
    const b = h("button", { id: "reply", class: "primary", onclick: () => run(b, "答复", "/reply",
      async () => ({ text: text.value, attachments: await uploadAll(t.number, files) })) }, "答复");
    box.append(h("div", { class: "row" }, text, h("label", {}, "附件 ", files), b));
  }
  if (!box.childElementCount) box.append(h("p", { class: "hint" }, "当前没有可执行的操作"));
  return box;
}

main().catch((err) => say(`页面出错：${err.message}`, "error"));
