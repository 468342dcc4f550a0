"""Logging that never keeps a citizen's full phone number.

Two layers: the HTTP access log writes the path without its query string (``?caller=…`` and the like
stay out), and every log record passes through ``RedactPhoneNumbers`` before any handler writes it —
defence in depth for the message, its arguments and the traceback text, whoever logged it.
"""

from __future__ import annotations

import logging
import random
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

# Mainland mobiles (11 digits from 13x–19x, optionally +86/86 first) and fixed lines (0 + area code +
# 7–8 digits, optionally with a dash), not when part of a longer run of digits (ids, timestamps).
PHONE = re.compile(r"(?<![\d])(?:(?:\+?86[- ]?)?1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8})(?![\d])")


def redact(text: str) -> str:
    """Every phone number in ``text`` with all but its last 4 digits masked."""
    return PHONE.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)


class RedactPhoneNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of ``logger`` (the root by default): handler filters see the
    records of every child logger too, logger filters would not."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactPhoneNumbers) for f in handler.filters):
            handler.addFilter(RedactPhoneNumbers())


class AccessLogger(AbstractAccessLogger):
    """``remote "METHOD /path" status bytes seconds``: no query string, no headers. Every request."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %d %d %.3f', request.remote, request.method, request.path, response.status,
                         response.body_length, time)


def access_logger(sample: float, slow_seconds: float) -> type[AccessLogger]:
    """The access log off the hot path: a failed (4xx/5xx) or slow request is always written, the others
    only as a random ``sample`` (0 = none, 1 = all). Formatting and the redaction filter run only for the
    lines written; the metrics (``/metrics``) still count every request."""

    class SampledAccessLogger(AccessLogger):
        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            if response.status >= 400 or time >= slow_seconds or (sample > 0 and random.random() < sample):
                super().log(request, response, time)

    return SampledAccessLogger
