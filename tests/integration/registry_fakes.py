"""Test-side servers on loopback: a token issuer, a fault-injecting proxy, a credential helper.

- ``TokenServer`` issues RS256 JWTs the real registry verifies (``auth: token:``
  with our signing certificate as ``rootcertbundle``; the header's ``x5c`` carries
  the certificate), and records every scope it was asked for.
- ``FaultProxy`` forwards to the real registry and, on request, answers 5xx a
  number of times, drops a blob's connection after N bytes, or flips a byte.
- ``write_cred_helper`` writes ``docker-credential-pydocktest``, speaking the
  docker-credential-helpers protocol over a JSON file.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Server:
    """A ThreadingHTTPServer on a free loopback port, shut down by ``stop``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# -- token server -------------------------------------------------------------------
class TokenServer(_Server):
    def __init__(self, key: Any, cert_der: bytes, users: dict[str, str], *,
                 service: str = "pydock-test", issuer: str = "pydock-test-issuer") -> None:
        self.key, self.cert_der, self.users = key, cert_der, users
        self.service, self.issuer = service, issuer
        self.requests: list[dict[str, Any]] = []
        super().__init__(_TokenHandler)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def registry_auth(self, bundle: Path) -> dict[str, Any]:
        return {"token": {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                          "rootcertbundle": str(bundle)}}

    def issue(self, account: str, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for s in scopes:
            kind, _, rest = s.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {"iss": self.issuer, "sub": account, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{_b64(sig)}"


class _TokenHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        srv: TokenServer = self.server.owner  # type: ignore[attr-defined]
        q = parse_qs(urlsplit(self.path).query)
        scopes = q.get("scope", [])
        account = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            if srv.users.get(user) != pw:
                srv.requests.append({"scopes": scopes, "account": user, "ok": False})
                self._send(401, {"errors": [{"code": "UNAUTHORIZED",
                                             "message": "bad credentials"}]})
                return
            account = user
        srv.requests.append({"scopes": scopes, "account": account, "ok": True})
        # Anonymous callers may only pull; the registry enforces what the token grants.
        granted = scopes if account else [s for s in scopes if s.endswith(":pull")]
        self._send(200, {"token": srv.issue(account, granted), "expires_in": 300})

    def _send(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# -- fault proxy --------------------------------------------------------------------
class FaultProxy(_Server):
    """Forwards to ``upstream`` (host:port). Faults are armed by the test:

    - ``fail(pattern, status, times)``: requests whose path matches answer ``status``;
    - ``drop_blob(digest, after, times)``: send the headers and ``after`` bytes, then close;
    - ``corrupt_blob(digest)``: flip one byte in the middle of every response for it.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.failures: list[list[Any]] = []
        self.drops: dict[str, list[int]] = {}
        self.corrupt: set[str] = set()
        self.log: list[tuple[str, str, str, int]] = []  # method, path, range, status
        self.lock = threading.Lock()
        super().__init__(_ProxyHandler)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def fail(self, pattern: str, status: int, times: int) -> None:
        self.failures.append([re.compile(pattern), status, times])

    def drop_blob(self, digest: str, after: int, times: int = 1) -> None:
        self.drops[digest] = [after, times]

    def corrupt_blob(self, digest: str) -> None:
        self.corrupt.add(digest)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        px: FaultProxy = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rng = self.headers.get("Range", "")
        with px.lock:
            for f in px.failures:
                if f[2] > 0 and f[0].search(self.path):
                    f[2] -= 1
                    px.log.append((self.command, self.path, rng, f[1]))
                    self.send_response(f[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
        conn = http.client.HTTPConnection(px.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        px.log.append((self.command, self.path, rng, resp.status))
        digest = self.path.rsplit("/", 1)[-1] if "/blobs/sha256:" in self.path else ""
        drop = None
        with px.lock:
            if self.command == "GET" and digest in px.drops and px.drops[digest][1] > 0 \
                    and resp.status in (200, 206):
                px.drops[digest][1] -= 1
                drop = px.drops[digest][0]
        if self.command == "GET" and digest in px.corrupt and len(data) > 1:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if drop is not None:
            self.wfile.write(data[:drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815


# -- credential helper ----------------------------------------------------------------
HELPER_NAME = "pydocktest"


def write_cred_helper(bindir: Path, store: Path) -> Path:
    """``docker-credential-pydocktest`` keeping ``{server: {Username, Secret}}`` in ``store``."""
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / f"docker-credential-{HELPER_NAME}"
    exe.write_text(f"""#!{sys.executable}
import json, sys
from pathlib import Path
STORE = Path({str(store)!r})
db = json.loads(STORE.read_text()) if STORE.exists() else {{}}
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
if action == "store":
    req = json.loads(data)
    db[req["ServerURL"]] = {{"Username": req["Username"], "Secret": req["Secret"]}}
    STORE.write_text(json.dumps(db))
elif action == "get":
    server = data.strip()
    if server not in db:
        sys.stdout.write("credentials not found in native keychain")
        sys.exit(1)
    sys.stdout.write(json.dumps({{"ServerURL": server, **db[server]}}))
elif action == "erase":
    server = data.strip()
    if server not in db:
        sys.stdout.write("credentials not found in native keychain")
        sys.exit(1)
    del db[server]
    STORE.write_text(json.dumps(db))
elif action == "list":
    sys.stdout.write(json.dumps({{k: v["Username"] for k, v in db.items()}}))
else:
    sys.stdout.write("unknown action")
    sys.exit(1)
""")
    exe.chmod(0o755)
    return exe
