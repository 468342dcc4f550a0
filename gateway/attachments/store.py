"""Parsing an upload and keeping its bytes: everything here is blocking (parsing, hashing, zip reading,
file I/O) and runs in a worker thread, off the event loop."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote

from gateway.attachments.kinds import detect
from gateway.errors import InvalidInput, PayloadTooLarge, Unprocessable

MAX_BYTES = 900 * 1024  # a photo or a scanned letter; below the API's body limit with the multipart framing
NAME_LENGTH = 200
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


@dataclass(frozen=True, slots=True)
class Upload:
    name: str  # display name, sanitised
    content_type: str
    data: bytes
    sha256: str


def display_name(raw: str) -> str:
    """The uploaded name as a harmless label: its last path component (either separator), NFC, no control
    or path characters, no leading dots, at most ``NAME_LENGTH`` characters keeping the extension."""
    base = PureWindowsPath(PurePosixPath(raw).name).name
    name = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", base)).strip().lstrip(".")
    if len(name) > NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: NAME_LENGTH - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:NAME_LENGTH]
    return name


def _unquoted(name: str) -> str:
    """Browsers send the name as UTF-8; some HTTP clients (aiohttp's FormData) percent-encode it."""
    if "%" not in name:
        return name
    try:
        return unquote(name, errors="strict")
    except UnicodeDecodeError:
        return name


def parse(content_type: str, body: bytes) -> Upload:
    """The one ``file`` part of a multipart/form-data body, checked: 400 when it is not such a body, 413
    when the file is too large, 422 when it is not an accepted kind."""
    if not content_type.lower().startswith("multipart/form-data") or not body:
        raise InvalidInput("send the file as multipart/form-data with a part named 'file'",
                           error_id="multipart-required")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    parts = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"] \
        if message.is_multipart() else []
    if len(parts) != 1 or not parts[0].get_filename():
        raise InvalidInput("send exactly one part named 'file' with a filename", error_id="multipart-required")
    part = parts[0]
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        raise InvalidInput("the file is empty", error_id="empty-file")
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"a file may have at most {MAX_BYTES} bytes", error_id="attachment-too-large")
    name = display_name(_unquoted(str(part.get_filename())))
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    kind = detect(data, extension)
    if kind is None:
        raise Unprocessable("only images (png, jpg, gif, webp), PDF and office documents (doc, docx, xls, "
                            "xlsx, ppt, pptx) are accepted, and the name's extension must match the file",
                            error_id="attachment-type-not-allowed")
    return Upload(name, kind.content_type, data, hashlib.sha256(data).hexdigest())


def save(root: Path, data: bytes) -> str:
    """Write ``data`` under ``root`` with a fresh random name (returned); never overwrites."""
    root.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    fd = os.open(root / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return stored


def remove(root: Path, stored: str) -> None:
    (root / stored).unlink(missing_ok=True)
