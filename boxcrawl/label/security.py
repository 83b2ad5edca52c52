"""Who may talk to the labeling server, and which requests may change labels.

- Loopback by default. Any other bind address needs an access token (checked on every request).
- Host header must name the loopback server when it is bound there (no DNS-rebinding from a web page).
- State-changing requests carry the page's CSRF token in a header and a JSON content type, and a
  same-origin `Origin` when the browser sends one: a cross-site form or fetch cannot do all three.
  The original protocol's `POST /message` is for scripts, which know no
  token: there a request that carries no sign of a browser (no Origin, Cookie or Sec-Fetch-* header) needs
  only the JSON content type, which no cross-site page can send without a CORS preflight this server
  never answers.
- The one redirect (the printed token link, to drop the token from the address bar) goes to a path on this
  server, never to a host taken from the request.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import parse_qs, quote, unquote

from starlette.responses import JSONResponse, RedirectResponse

TOKEN_COOKIE = "boxcrawl_label_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SCRIPT_PATHS = {"/message"}  # the original server's protocol: clients without the page's CSRF token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> str | None:
    """Why the server must not start on `host`, or None if it may."""
    if not is_loopback(host) and not token:
        return (
            f"--host {host} is not a loopback address: anyone on the network could change labels; "
            "pass --token SECRET (or set BOXCRAWL_LABEL_TOKEN) to allow it"
        )
    if token is not None and len(token) < 16:
        return "--token must be at least 16 characters"
    return None


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def same_site_location(scope) -> str:
    """The address a request asked for, as a redirect target that can only stay on this server, without any
    `token` parameter: the path as sent (still percent-encoded, everything but unreserved characters, `/` and `%`
    escaped, so no `\\`, `:`, control or space survives), with its leading slashes collapsed to one, so that
    `//other.host/` or an absolute-form `http://other.host/` target cannot become a link to another host."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = "/" + quote(raw, safe="/%").lstrip("/")
    kept = [
        part
        for part in scope.get("query_string", b"").split(b"&")
        if part and unquote(part.split(b"=", 1)[0].decode("latin-1").replace("+", " ")) != "token"
    ]
    query = quote(b"&".join(kept), safe="&=%+/:@,;!$'()*?")
    return path + (f"?{query}" if query else "")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class SecurityMiddleware:
    """Pure ASGI middleware (so streaming and lifespan pass through untouched)."""

    def __init__(self, app, *, bind_host: str, port: int, token: str | None, csrf_token: str):
        self.app = app
        self.token = token
        self.csrf_token = csrf_token
        self.allowed_hosts = None
        if is_loopback(bind_host):
            self.allowed_hosts = {f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")}
            if bind_host not in ("127.0.0.1", "localhost", "::1"):
                self.allowed_hosts.add(f"{bind_host}:{port}")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        response = self._refusal(scope)
        if response is not None:
            return await response(scope, receive, send)
        await self.app(scope, receive, send)

    def _refusal(self, scope):
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return _error(421, f"unexpected Host header {host!r}; open the server by its loopback address")
        if self.token is not None:
            refused = self._check_token(scope, headers)
            if refused is not None:
                return refused
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin not in {f"http://{host}", f"https://{host}"}:
                return _error(403, "cross-origin request refused")
            from_browser = origin is not None or "cookie" in headers or any(k.startswith("sec-fetch-") for k in headers)
            script = scope["path"] in SCRIPT_PATHS and not from_browser
            if not script and not _same(headers.get(CSRF_HEADER), self.csrf_token):
                return _error(403, "missing or wrong CSRF token; reload the page")
            if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                return _error(415, "expected Content-Type: application/json")
        return None

    def _check_token(self, scope, headers):
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), self.token):
            return None
        cookies = dict(c.strip().split("=", 1) for c in headers.get("cookie", "").split(";") if "=" in c)
        if _same(cookies.get(TOKEN_COOKIE), self.token):
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.pop("token", [None])[0]
        if scope["method"] == "GET" and _same(given, self.token):
            # First visit through the link the server printed: keep the token in a cookie, drop it from the URL.
            response = RedirectResponse(same_site_location(scope), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return _error(
            401, "access token required: open the link the server printed, or send Authorization: Bearer TOKEN"
        )
