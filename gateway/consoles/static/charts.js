// Horizontal bar charts drawn as inline SVG (no chart library): one bar per unit or category, 0–100 %.
const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// rows: [{label, rate (0..1 or null), detail}] → an <svg>; rates under `low` are drawn red.
export function barChart(title, rows, { low = 0.8 } = {}) {
  const rowHeight = 22, labelWidth = 150, barWidth = 360, top = 26;
  const height = top + rows.length * rowHeight + 8;
  const svg = el("svg", { viewBox: `0 0 ${labelWidth + barWidth + 90} ${height}`, role: "img", "aria-label": title });
  svg.append(el("text", { x: 0, y: 16, "font-weight": "bold" }, title));
  svg.append(el("line", { class: "axis", x1: labelWidth, y1: top - 4, x2: labelWidth, y2: height - 4 }));
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    svg.append(el("text", { x: labelWidth - 6, y: y + 14, "text-anchor": "end" }, row.label));
    if (row.rate === null || row.rate === undefined) {
      svg.append(el("text", { x: labelWidth + 6, y: y + 14, fill: "#656d76" }, "无数据"));
      return;
    }
    const width = Math.max(1, Math.round(row.rate * barWidth));
    const bar = el("rect", { class: row.rate < low ? "bar low" : "bar", x: labelWidth + 1, y: y + 3, width, height: rowHeight - 8 });
    bar.append(el("title", {}, row.detail || ""));
    svg.append(bar);
    svg.append(el("text", { x: labelWidth + width + 6, y: y + 14 }, `${(row.rate * 100).toFixed(1)}%`));
  });
  if (!rows.length) svg.append(el("text", { x: labelWidth + 6, y: top + 14, fill: "#656d76" }, "所选时段没有转派的工单"));
  return svg;
}

// Tomorrow's half hours: seats needed (outline) against seats expected on the phones (filled; red where a
// target will be missed). slots: [{start, required, expected_staffed, misses, calls}].
export function staffingChart(title, slots) {
  const width = 720, height = 190, left = 30, top = 24, bottom = 30;
  const peak = Math.max(1, ...slots.map((s) => Math.max(s.required, s.expected_staffed)));
  const step = (width - left) / Math.max(1, slots.length), scale = (height - top - bottom) / peak;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  svg.append(el("text", { x: 0, y: 16, "font-weight": "bold" }, title));
  svg.append(el("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  svg.append(el("text", { x: left - 4, y: top + 10, "text-anchor": "end" }, String(peak)));
  slots.forEach((s, i) => {
    const x = left + i * step, base = height - bottom;
    const staffed = el("rect", { class: s.misses ? "bar low" : "bar", x: x + 1, width: Math.max(1, step - 2),
      y: base - s.expected_staffed * scale, height: s.expected_staffed * scale });
    staffed.append(el("title", {}, `${s.start} 预计来电 ${s.calls} · 需 ${s.required} 席 · 预计在线 ${s.expected_staffed} 席`));
    svg.append(staffed);
    svg.append(el("line", { x1: x + 1, x2: x + step - 1, y1: base - s.required * scale, y2: base - s.required * scale,
      stroke: "#1f2328", "stroke-width": 2 }));
    if (i % 4 === 0) svg.append(el("text", { x, y: height - 12, "font-size": 10 }, s.start));
  });
  return svg;
}
