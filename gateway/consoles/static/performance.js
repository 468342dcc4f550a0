// 话务员绩效 on the supervisor page: per agent and day, calls answered, talk time, tickets created, direct
// answers, and the quality inspection of those calls (mean score, flagged calls, confirmed findings).
// The period defaults to the last 7 days; the supervisor page signs in first.
import { $, act, api, fill, fmtSeconds, h } from "/console/static/common.js";

function day(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

async function show(button) {
  const form = $("#performance-period");
  // The day after the chosen end date, counted on the date itself (not in the browser's time zone).
  const next = new Date(`${form.end.value}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const query = { start: `${form.start.value}T00:00:00+08:00`, end: `${next.toISOString().slice(0, 10)}T00:00:00+08:00` };
  const got = await act(button, "话务员绩效", () => api("GET", "/console/agent-performance", undefined, { query }));
  if (!got) return;
  fill($("#performance"), h("tr", {}, ["日期", "话务员", "接听", "通话时长", "登记工单", "直接答复", "质检均分", "质检标记", "确认问题"].map((t) => h("th", {}, t))),
    got.items.length ? got.items.map((r) => h("tr", { "data-agent": r.agent }, h("td", {}, r.day), h("td", {}, r.agent),
      h("td", {}, r.calls), h("td", {}, fmtSeconds(r.talk_seconds)), h("td", {}, r.tickets_created),
      h("td", {}, r.direct_answers), h("td", {}, r.quality_score ?? "—"),
      h("td", {}, r.inspected ? `${r.quality_flagged}/${r.inspected}` : "—"), h("td", {}, r.findings_confirmed)))
      : h("tr", {}, h("td", { colspan: 9, class: "empty" }, "该期间无数据")));
}

const form = $("#performance-period");
const today = new Date();
const weekAgo = new Date(today);
weekAgo.setDate(today.getDate() - 6);
form.start.value = day(weekAgo);
form.end.value = day(today);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  show(event.submitter);
});
