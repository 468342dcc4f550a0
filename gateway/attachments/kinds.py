"""Which files are accepted: images, PDF and office documents, recognised by their first bytes. The
name's extension must agree with what the bytes are, so a script renamed to .pdf, or a PDF named .html,
is refused."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kind:
    content_type: str
    extensions: frozenset[str]


PNG = Kind("image/png", frozenset({"png"}))
JPEG = Kind("image/jpeg", frozenset({"jpg", "jpeg"}))
GIF = Kind("image/gif", frozenset({"gif"}))
WEBP = Kind("image/webp", frozenset({"webp"}))
PDF = Kind("application/pdf", frozenset({"pdf"}))
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", frozenset({"docx"}))
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({"xlsx"}))
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", frozenset({"pptx"}))
DOC = Kind("application/msword", frozenset({"doc"}))
XLS = Kind("application/vnd.ms-excel", frozenset({"xls"}))
PPT = Kind("application/vnd.ms-powerpoint", frozenset({"ppt"}))

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy Office container (.doc/.xls/.ppt)
# An Office Open XML package is a zip whose main part sits in a folder named after the application.
OOXML = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}


def detect(data: bytes, extension: str) -> Kind | None:
    """The kind of ``data`` when it is one we accept and ``extension`` (lower case, no dot) names it."""
    kind = _by_bytes(data, extension)
    return kind if kind is not None and extension in kind.extensions else None


def _by_bytes(data: bytes, extension: str) -> Kind | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(OLE2):
        # The container does not say which application wrote it without parsing its directory; the
        # extension picks among the three, which all open in an office suite, never in the browser.
        return next((k for k in (DOC, XLS, PPT) if extension in k.extensions), None)
    if data.startswith(b"PK\x03\x04"):
        return _ooxml(data)
    return None


def _ooxml(data: bytes) -> Kind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next((kind for folder, kind in OOXML.items() if any(n.startswith(folder) for n in names)), None)
