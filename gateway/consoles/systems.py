"""What the consoles say about the systems a page depends on, in the words an agent reads.

The websocket badge only says whether the page receives events; it says nothing of the telephone system
or of live transcription. These come from the gateway's own readiness probes (the ones /readyz runs).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.appkeys import READINESS, SETTINGS


async def systems(app: web.Application) -> dict[str, Any]:
    settings = app[SETTINGS]
    if not settings.ami.enabled:
        pbx = _state("电话系统未接入（本网关未启用 AMI），通话操作不可用", "ami.enabled = false")
    elif problem := await _problem(app, "pbx"):
        pbx = _state("电话系统（Asterisk）未连接，通话操作暂不可用，正在自动重连", problem)
    else:
        pbx = _state("电话系统已连接")
    if settings.speech.model_path is None:
        asr = _state("实时转写未开启（未配置语音识别模型），请手工填写工单", "speech.model_path is not set")
    elif problem := await _problem(app, "asr"):
        asr = _state("实时转写暂不可用（语音识别模型未就绪），请手工填写工单", problem)
    else:
        asr = _state("实时转写已开启")
    return {"pbx": pbx, "asr": asr}


async def _problem(app: web.Application, check: str) -> str | None:
    probe = app[READINESS].get(check)
    return "not started" if probe is None else await probe()


def _state(zh: str, problem: str | None = None) -> dict[str, Any]:
    return {"up": problem is None, "zh": zh, "detail": problem}
