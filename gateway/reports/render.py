"""A report as an HTML page with inline SVG charts, as an XLSX workbook (with native Excel charts) and
as CSV (one row per figure: section, key, value)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference

from gateway.reports.charts import bar_chart, line_chart
from gateway.spreadsheet import safe_row

KPI_LABELS = [
    ("answer_15s_rate", "15秒接通率"), ("connect_24h_rate", "24小时接通率"), ("sign_on_time_rate", "签收及时率"),
    ("on_time_rate", "按时办结率"), ("satisfied_rate", "满意率（已甄别）"), ("reopened_rate", "重办率"),
    ("returned_rate", "退单率"), ("extended_rate", "延期率"), ("closed_rate", "办结率"),
]


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def render_html(report: dict[str, Any]) -> str:
    v, k = report["volumes"], report["kpis"]
    charts = [
        line_chart("每日受理量", [(d, n) for d, n in v["daily"]]),
        bar_chart("渠道分布", [(c, n) for c, n in v["by_channel"]]),
        bar_chart("类别分布", [(c, n) for c, n in v["by_category"]]),
        bar_chart("热点话题", [(w, n) for w, n in v["by_topic"][:10]]),
        bar_chart("考核指标", [(label, round((k[key] or 0) * 100, 1)) for key, label in KPI_LABELS
                           if k.get(key) is not None], unit="%"),
    ]
    kpi_rows = "".join(f"<tr><th>{label}</th><td>{percent(k.get(key))}</td><td>{_count(k.get(key[:-5] + '_count'))}"
                       f"</td></tr>" for key, label in KPI_LABELS)
    issues = "".join(f"<tr><td>{escape(i['topic'])}</td><td>{i['count']}</td><td>{i['previous']}</td>"
                     f"<td>{'+' if i['trend'] > 0 else ''}{i['trend']}</td></tr>" for i in report["top_issues"])
    hot = "".join(f"<tr><td>{escape(h['category'])}</td><td>{escape(h['place'] or '')}</td><td>{h['count']}</td>"
                  f"<td>{escape(h['unit'] or '')}</td><td>{escape(h['summary'])}</td></tr>" for h in report["hotspots"])
    overdue = "".join(f"<tr><td>{o['number']}</td><td>{escape(o['unit'] or '')}</td><td>{escape(o['category'])}</td>"
                      f"<td>{o['days_overdue']}</td><td>{escape(o['summary'])}</td></tr>" for o in report["overdue"])
    children = "".join(f"<tr><td>{escape(c['peer'])}</td><td>{c['tickets']}</td><td>{c['closed']}</td></tr>"
                       for c in report["children"])
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(report['title'])}</title>
<style>body{{font-family:sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0 20px}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}.charts svg{{margin:8px 16px 8px 0}}</style></head>
<body><h1>{escape(report['title'])}</h1>
<p>平台 {escape(report['platform']['id'])}（{escape(report['platform']['level'])}） ·
{report['start']} 至 {report['end']}（不含） · 受理 {v['total']} 件（上期 {v['previous_total']} 件） ·
生成于 {_cell(report['generated_at'])}</p>
<div class="charts">{''.join(charts)}</div>
<h2>考核指标</h2><table><tr><th>指标</th><th>数值</th><th>分子/分母</th></tr>{kpi_rows}</table>
<h2>主要问题及趋势</h2><table><tr><th>话题</th><th>本期</th><th>上期</th><th>变化</th></tr>{issues}</table>
<h2>热点预警</h2><table><tr><th>类别</th><th>地点</th><th>件数</th><th>责任单位</th><th>摘要</th></tr>{hot}</table>
<h2>超期工单</h2><table><tr><th>工单号</th><th>承办单位</th><th>类别</th><th>超期天数</th><th>摘要</th></tr>{overdue}</table>
<h2>下级平台</h2><table><tr><th>平台</th><th>受理</th><th>办结</th></tr>{children}</table>
</body></html>"""


def _count(pair: list[int] | None) -> str:
    return f"{pair[0]}/{pair[1]}" if pair else ""


def rows(report: dict[str, Any]) -> Iterable[tuple[str, str, Any]]:
    """The report flattened: (section, key, value)."""
    v, k = report["volumes"], report["kpis"]
    yield "report", "title", report["title"]
    yield "report", "period", report["period"]
    yield "report", "start", report["start"]
    yield "report", "end", report["end"]
    yield "volumes", "total", v["total"]
    yield "volumes", "previous_total", v["previous_total"]
    for section in ("by_channel", "by_category", "by_topic", "daily"):
        for key, n in v[section]:
            yield section, key, n
    for key, label in KPI_LABELS:
        yield "kpis", f"{key} {label}", percent(k.get(key))
    for issue in report["top_issues"]:
        yield "top_issues", issue["topic"], f"{issue['count']} ({issue['trend']:+d})"
    for o in report["overdue"]:
        yield "overdue", o["number"], f"{o['unit'] or ''} {o['days_overdue']}d"


def _safe_append(sheet: Any, row: list[Any]) -> None:
    sheet.append(safe_row(row))


def render_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    writer.writerows(safe_row(row) for row in rows(report))
    return out.getvalue()


def render_xlsx(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "概况"
    _safe_append(summary, ["报告", report["title"]])
    _safe_append(summary, ["时段", f"{report['start']} – {report['end']}"])
    _safe_append(summary, ["受理量", report["volumes"]["total"]])
    _safe_append(summary, ["上期受理量", report["volumes"]["previous_total"]])
    _safe_append(summary, [])
    _safe_append(summary, ["指标", "数值", "分子", "分母"])
    for key, label in KPI_LABELS:
        count = report["kpis"].get(key[:-5] + "_count") or [None, None]
        _safe_append(summary, [label, percent(report["kpis"].get(key)), *count])

    def table(title: str, header: list[str], data: list[list[Any]], chart: str | None = None) -> None:
        ws = wb.create_sheet(title)
        _safe_append(ws, header)
        for row in data:
            _safe_append(ws, [_cell(x) for x in row])
        if chart and data:
            c = LineChart() if chart == "line" else BarChart()
            c.title = title
            c.add_data(Reference(ws, min_col=2, min_row=1, max_row=len(data) + 1), titles_from_data=True)
            c.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(data) + 1))
            ws.add_chart(c, "D2")

    v = report["volumes"]
    table("每日", ["日期", "受理量"], v["daily"], "line")
    table("渠道", ["渠道", "件数"], v["by_channel"], "bar")
    table("类别", ["类别", "件数"], v["by_category"], "bar")
    table("话题", ["话题", "件数"], v["by_topic"], "bar")
    table("主要问题", ["话题", "本期", "上期", "变化"],
          [[i["topic"], i["count"], i["previous"], i["trend"]] for i in report["top_issues"]])
    table("超期工单", ["工单号", "承办单位", "类别", "状态", "应办结时间", "超期天数", "摘要"],
          [[o["number"], o["unit"], o["category"], o["status"], o["due_at"], o["days_overdue"], o["summary"]]
           for o in report["overdue"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
