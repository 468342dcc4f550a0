"""Typed keys for what the knowledge base puts on (or takes from) the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from kb.deadline import QuestionClock
from kb.service import KnowledgeBase

KB = web.AppKey("kb", KnowledgeBase)
# Set by the composition root (before start-up) to the working-time calendar of the ticket core with the
# pack's knowledge-question limit. Unset: a weekday-only stopgap with kb/data/defaults.toml's limit.
KB_QUESTION_CLOCK = web.AppKey("kb_question_clock", QuestionClock)
