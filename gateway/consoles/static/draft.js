// Showing a speech draft (gateway/speech: every field carries the words that justify it, as spans of
// draft.text) — evidence lines, flags and the source text with those words marked.
import { h } from "/console/static/common.js";

const URGENCY_ZH = { normal: "一般", urgent: "紧急", emergency: "应急（需转紧急热线）" };

function fieldsOf(draft, name) {
  const value = draft?.[name];
  if (!value) return [];
  return Array.isArray(value) ? value : [value];
}

// The trained pipeline (gateway/understanding) gives each field a confidence and the top-3 units with
// their reasons; drafts from the word lists have neither, and the line reads as before.
function confidenceOf(fields) {
  const known = fields.map((f) => f.confidence).filter((c) => typeof c === "number");
  return known.length ? ` · 置信度 ${Math.round(Math.max(...known) * 100)}%` : "";
}

function unitChoices(draft) {
  const units = draft?.units || [];
  if (!units.length) return "";
  const one = (u) => `${u.value.name}（${Math.round(u.value.score * 100)}%：${(u.value.reasons || []).join("；")}）`;
  return ` · 建议单位：${units.map(one).join("，")}`;
}

export function evidenceLines(draft, name) {
  const fields = fieldsOf(draft, name);
  const quotes = fields.flatMap((f) => f.evidence || []).map((e) => `「${e.text}」`);
  const prefix = name === "urgency" && draft?.urgency ? `${URGENCY_ZH[draft.urgency.value] || draft.urgency.value} · ` : "";
  const matter = name === "category" && draft?.matter ? ` · 事项：${draft.matter.value.domain}/${draft.matter.value.name}${confidenceOf([draft.matter])}` : "";
  const extra = confidenceOf(fields) + matter + (name === "unit" ? unitChoices(draft) : "");
  return (quotes.length ? `${prefix}依据：${[...new Set(quotes)].join(" ")}` : prefix) + extra;
}

function describeFlag(name, value) {
  if (name === "emergency") return `紧急事项：请转 ${value.key}（${value.label}）`;
  if (name === "out_of_scope") return `可能不属受理范围：${value.label || value.reason || JSON.stringify(value)}`;
  if (name === "duplicate") return `可能重复：${value.map((c) => `工单 ${c.ticket_id}（${c.reason}）`).join("，")}`;
  if (name === "hotspot") return `热点：${value.count ?? ""} 个相似来电`;
  return `${name}：${typeof value === "string" ? value : JSON.stringify(value)}`;
}

export function flagItems(draft) {
  const flags = Object.entries(draft?.flags || {});
  return flags.map(([name, flag]) => h("p", { class: `flag flag-${name}` }, describeFlag(name, flag.value) + confidenceOf([flag]),
    (flag.evidence || []).length ? h("span", { class: "evidence" }, ` 依据：${flag.evidence.map((e) => `「${e.text}」`).join(" ")}`) : null));
}

// The draft's source text with every evidence span marked (the class names the field it supports).
export function markedText(draft) {
  const text = draft?.text || "";
  const owner = new Array(text.length).fill(null);
  const names = ["summary", "category", "place", "times", "unit", "urgency"];
  for (const name of names) {
    for (const f of fieldsOf(draft, name)) {
      for (const e of f.evidence || []) for (let i = e.start; i < e.end && i < text.length; i++) owner[i] = name;
    }
  }
  for (const [name, flag] of Object.entries(draft?.flags || {})) {
    for (const e of flag.evidence || []) for (let i = e.start; i < e.end && i < text.length; i++) owner[i] = `flag-${name}`;
  }
  const parts = [];
  let i = 0;
  while (i < text.length) {
    let j = i;
    while (j < text.length && owner[j] === owner[i]) j++;
    const chunk = text.slice(i, j);
    parts.push(owner[i] && owner[i] !== "summary" ? h("mark", { class: `ev-${owner[i]}`, title: owner[i] }, chunk) : chunk);
    i = j;
  }
  return parts;
}
