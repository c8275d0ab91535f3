"""Registry error responses and transport failures as one readable line.

Registries answer errors with ``{"errors": [{"code", "message", "detail"}]}``
(distribution spec, "Error Codes"); the code decides the engine error class and
the message is kept, so users see what docker shows: ``manifest unknown``,
``denied: requested access to the resource is denied``.
"""

from __future__ import annotations

import json

import httpx

from ..errors import EngineError, RegistryError, RemoteNotFound, Unauthorized

_NOT_FOUND = {"MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"}
_DEFAULT_TEXT = {
    "UNAUTHORIZED": "authentication required",
    "DENIED": "requested access to the resource is denied",
    "MANIFEST_UNKNOWN": "manifest unknown",
    "NAME_UNKNOWN": "repository name not known to registry",
    "BLOB_UNKNOWN": "blob unknown to registry",
    "TOOMANYREQUESTS": "too many requests",
}


def error_codes(resp: httpx.Response) -> list[tuple[str, str]]:
    """(code, message) pairs from a registry error body; empty if it has none."""
    try:
        doc = json.loads(resp.content or b"{}")
    except (ValueError, httpx.ResponseNotRead):
        return []
    errs = doc.get("errors") if isinstance(doc, dict) else None
    out = []
    for e in errs if isinstance(errs, list) else []:
        if isinstance(e, dict):
            out.append((str(e.get("code", "")).upper(), str(e.get("message", ""))))
    return out


def registry_error(resp: httpx.Response, what: str, registry: str) -> EngineError:
    """The engine error for an unexpected status; ``what`` says what we were doing."""
    status = resp.status_code
    codes = error_codes(resp)
    code = codes[0][0] if codes else ""
    if not code:
        code = {401: "UNAUTHORIZED", 403: "DENIED", 429: "TOOMANYREQUESTS"}.get(status, "")
    message = codes[0][1] if codes and codes[0][1] else _DEFAULT_TEXT.get(code, "")
    label = code.lower().replace("_", " ").replace("toomanyrequests", "too many requests")
    text = f"{label}: {message}" if label and message and label != message else (
        message or label or f"{status} {resp.reason_phrase}".strip())
    line = f"{what}: {text}"
    if code == "UNAUTHORIZED" or status == 401:
        return Unauthorized(line, registry=registry, code=code or "UNAUTHORIZED")
    if code == "DENIED" or status == 403:
        return Unauthorized(line, registry=registry, code=code or "DENIED")
    if code in _NOT_FOUND or status == 404:
        return RemoteNotFound(line, registry=registry, status=status, code=code)
    return RegistryError(line, registry=registry, status=status, code=code)


def describe_transport(err: BaseException) -> str:
    """``connection refused``, ``timed out``... from an httpx transport error."""
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    text = str(err) or type(err).__name__
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(err, httpx.RemoteProtocolError):
        return f"connection dropped ({text})"
    return text
