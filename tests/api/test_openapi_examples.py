"""Every operation that takes a JSON body shows an example of it, and the gateway accepts that example's shape."""

from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
from gateway.config import load_settings
from gateway.http.api import EndpointSpec
from gateway.http.openapi import _routes, build_document


def test_every_json_body_has_an_example_its_model_accepts(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path, ami={"enabled": False}))
    document = build_document(app)
    refused, shown = [], 0
    for method, path, handler, _ in _routes(app):
        spec: EndpointSpec | None = getattr(handler, "__api__", None)
        if spec is None or spec.body is None:
            continue
        body = document["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
        shown += 1
        try:
            spec.body.model_validate(body["example"])
        except Exception as exc:
            refused.append(f"{method} {path}: {exc}")
    assert shown >= 40 and refused == []
