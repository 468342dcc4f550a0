"""An example request body for every operation of the OpenAPI document, built from the body's own schema.

Values come from realistic samples named by field (a 12345 ticket's words), else from the field's type,
enum and bounds; only required fields are filled, so an example shows the least a client must send.
``tests/api/test_openapi_examples.py`` checks that each example is accepted by its body model.
"""

from __future__ import annotations

import re
from typing import Any

SAMPLES: dict[str, Any] = {
    "category": "投诉", "content": "幸福路23号路灯坏了三天了，晚上出行不便", "title": "幸福路路灯不亮",
    "caller_number": "13800138000", "number": "13800138000", "party": "13900139000", "from": "13800138000",
    "lead_unit": "water", "unit_id": "water", "owner": "water", "unit": "water", "into": "20261204000001",
    "reason": "需要现场勘查", "note": "同意", "text": "已派人更换灯头，恢复照明", "answer": "可在政务服务网办理",
    "basis": "《城市照明管理规定》第二十条", "basis_document": "县城市管理局三定方案", "guidance": "请拨打110报警",
    "reason_code": "emergency_channel", "summary": "市民报称小区内有人持械斗殴", "location": "城关镇幸福路12号",
    "question": "退单时限是多少", "working_days": 3, "approve": True, "level": 1, "target": "county-subcentre",
    "expert": "12333", "ticket_id": "20261204000001", "ticket": "20261204000001", "mode": "listen",
    "supervisor": "2001", "queues": ["hotline"], "name": "县自来水公司", "id": "water", "region": "城关镇",
    "url": "https://district.example.gov.cn", "ref": "1795346000.70", "kind": "callback",
    "message_id": "web-20261204-0001", "call_id": "1795346000.70", "seq": 1, "start": "2026-11-01",
    "period": "month", "origin": "city", "effective_at": "2026-12-04T09:00:00+08:00",
}


def example(schema: dict[str, Any], components: dict[str, Any], name: str = "") -> Any:
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[1]], components, name)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example(options[0], components, name)
    if "enum" in schema:
        return SAMPLES[name] if SAMPLES.get(name) in schema["enum"] else schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {field: example(properties.get(field, {}), components, field) for field in schema.get("required", [])}
    if name in SAMPLES and _fits(SAMPLES[name], kind, schema.get("pattern")):
        return SAMPLES[name]
    if kind == "array":
        count = schema.get("minItems", 0)
        return [example(schema.get("items", {}), components, name) for _ in range(count)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2026-12-04T09:00:00+08:00"
    if (choice := ALTERNATIVES.fullmatch(schema.get("pattern", ""))) is not None:
        return choice[1].split("|")[0]  # ^(create|update|retire)$ → create
    return "示例"


ALTERNATIVES = re.compile(r"\^\(([\w|-]+)\)\$")
TYPES: dict[str, type | tuple[type, ...]] = {"string": str, "integer": int, "number": (int, float),
                                             "boolean": bool, "array": list, "object": dict}


def _fits(value: Any, kind: str, pattern: str | None) -> bool:
    if not isinstance(value, TYPES.get(kind, object)) or (kind == "integer" and isinstance(value, bool)):
        return False
    return pattern is None or not isinstance(value, str) or re.search(pattern, value) is not None
