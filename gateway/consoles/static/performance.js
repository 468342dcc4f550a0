// 话务员绩效 on the supervisor page: per agent and day, calls answered, talk time, tickets created, direct
// answers, and the quality inspection of those calls (mean score, flagged calls, confirmed findings).
// The period defaults to the last 7 days of the centre's calendar; supervisor.js sets it up after signing in.
import { $, act, addDays, api, centreDay, centrePeriod, fill, fmtSeconds, h } from "/console/static/common.js";

async function show(button, timeZone) {
  const form = $("#performance-period");
  const query = centrePeriod(form.start.value, form.end.value, timeZone);
  const got = await act(button, "话务员绩效", () => api("GET", "/console/agent-performance", undefined, { query }));
  if (!got) return;
  fill($("#performance"), h("tr", {}, ["日期", "话务员", "接听", "通话时长", "登记工单", "直接答复", "质检均分", "质检标记", "确认问题"].map((t) => h("th", {}, t))),
    got.items.length ? got.items.map((r) => h("tr", { "data-agent": r.agent }, h("td", {}, r.day), h("td", {}, r.agent),
      h("td", {}, r.calls), h("td", {}, fmtSeconds(r.talk_seconds)), h("td", {}, r.tickets_created),
      h("td", {}, r.direct_answers), h("td", {}, r.quality_score ?? "—"),
      h("td", {}, r.inspected ? `${r.quality_flagged}/${r.inspected}` : "—"), h("td", {}, r.findings_confirmed)))
      : h("tr", {}, h("td", { colspan: 9, class: "empty" }, "该期间无数据")));
}

export function setUpPerformance(timeZone) {
  const form = $("#performance-period");
  const today = centreDay(new Date(), timeZone);
  form.start.value = addDays(today, -6);
  form.end.value = today;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show(event.submitter, timeZone);
  });
}
