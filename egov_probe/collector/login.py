"""Logging viewers in and out of the live page, and knowing who a request comes from.

The session is a signed cookie (``viewers.SessionSigner``): HttpOnly, SameSite=Strict, Secure
when the request came over TLS (uvicorn's TLS, or nginx saying so in X-Forwarded-Proto to a
server started with proxy headers). CSRF: the page changes nothing; the only forms are the
login and the logout. The session cookie is SameSite=Strict, so no other site's page can send
a request that carries it; a login POST from another origin (``Origin`` header) is refused too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .context import CollectorContext
from .limits import RateLimiter
from .viewers import COOKIE, SESSION_SECONDS, SessionSigner, is_active, verify_login

MAX_FORM_BYTES = 4096
LANGS = ("vi", "en")
# Login attempts (right or wrong): per name typed 10 at once then one every 6 s; per client
# address 30 at once then one a second. Guessing is slow; an office behind one address is not.
NAME_BURST, NAME_RATE = 10, 1 / 6
CLIENT_BURST, CLIENT_RATE = 30, 1.0


def lang_of(request: Request, form: Optional[dict[str, str]] = None) -> str:
    """Vietnamese unless ``?lang=en`` (or the form's ``lang``) asks for English."""
    asked = (form or {}).get("lang") or request.query_params.get("lang", "vi")
    return asked if asked in LANGS else "vi"


def safe_next(value: Optional[str]) -> str:
    """A path on this site to return to after login (never another site's address)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


@dataclass
class Sessions:
    """Who is looking: a viewer's name from the request's cookie, checked against the store."""

    ctx: CollectorContext

    @property
    def signer(self) -> SessionSigner:
        return SessionSigner(self.ctx.session_secret)

    def name_in(self, request: Request) -> Optional[str]:
        """The cookie's viewer if it is genuine and current (the account is not checked)."""
        return self.signer.viewer(request.cookies.get(COOKIE), time.time())

    async def viewer(self, request: Request) -> Optional[str]:
        name = self.name_in(request)
        if name is None:
            return None
        return name if await run_in_threadpool(self.still_active, name) else None

    def still_active(self, name: str) -> bool:
        database = self.ctx.open_database()
        try:
            return is_active(database, name)
        finally:
            database.close()

    def check_password(self, name: str, password: str) -> bool:
        database = self.ctx.open_database()
        try:
            return verify_login(database, name, password)
        finally:
            database.close()

    def login_redirect(self, request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?lang={lang_of(request)}&next={quote(target, safe='')}",
                                status_code=303)


async def read_form(request: Request) -> Optional[dict[str, str]]:
    """A small urlencoded form (no multipart: the login has two fields), None if too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def same_origin(request: Request) -> bool:
    """No ``Origin`` (an old browser, a script) or this very site's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def login_routes(sessions: Sessions, render: Callable[..., Response]) -> list[BaseRoute]:
    """``render(request, template, lang, status, **values)`` draws a page of the collector."""

    async def login_form(request: Request) -> Response:
        return render(request, "login.html.j2", lang_of(request), 200, failed=False, name="",
                      next=safe_next(request.query_params.get("next")), wait=None)

    by_name = RateLimiter(NAME_RATE, NAME_BURST)
    by_client = RateLimiter(CLIENT_RATE, CLIENT_BURST)

    async def login(request: Request) -> Response:
        form = await read_form(request)
        if form is None or not same_origin(request):
            return Response("refused", status_code=403, media_type="text/plain")
        lang, name = lang_of(request, form), form.get("name", "").strip()
        target = safe_next(form.get("next"))
        wait = by_client.retry_after(request.client.host if request.client else "") \
            or by_name.retry_after(name.casefold())
        if wait is not None:
            response = render(request, "login.html.j2", lang, 429, failed=False, name=name,
                              next=target, wait=wait)
            response.headers["Retry-After"] = str(wait)
            return response
        if not name or not await run_in_threadpool(sessions.check_password, name,
                                                   form.get("password", "")):
            return render(request, "login.html.j2", lang, 401, failed=True, name=name,
                          next=target, wait=None)
        response = RedirectResponse(target if "lang=" in target or lang == "vi"
                                    else f"{target}{'&' if '?' in target else '?'}lang={lang}",
                                    status_code=303)
        response.set_cookie(COOKIE, sessions.signer.issue(name, time.time()),
                            max_age=SESSION_SECONDS, path="/", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse(f"/login?lang={lang_of(request)}", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")
        return response

    return [Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["GET", "POST"])]
