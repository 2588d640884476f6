"""Security headers, same-site redirect targets, trusted proxies and per-user rate limits."""

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import limiter

DIRECTIVES = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def content_security_policy(extra: dict[str, tuple[str, ...]] | None = None) -> str:
    """The policy, with `extra` sources added to single directives (e.g. Stripe on the payment page)."""
    directives = dict(DIRECTIVES)
    for name, sources in (extra or {}).items():
        directives[name] = (*directives.get(name, ("'self'",)), *sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


CONTENT_SECURITY_POLICY = content_security_policy()


def allow_in_csp(directive: str, *sources: str) -> None:
    """Widen the policy of the current response only; a view calls this for the one page that needs it."""
    extra = g.setdefault("csp_extra", {})
    extra[directive] = (*extra.get(directive, ()), *sources)


def _is_control(char: str) -> bool:
    # Cc: CR, LF, TAB, NUL, DEL...; Cf: invisible format marks such as bidi overrides.
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def is_local_path(target: str | None) -> bool:
    """True only for a path on this site: one leading '/', never '//' or '/\\', no scheme,
    no control characters, judged after undoing percent-encoding (several layers) and
    reading backslashes as browsers do, as slashes."""
    if not target or len(target) > 2048:
        return False
    decoded = target
    for _ in range(4):  # %252F%252F... decodes one layer at a time
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    else:
        return False
    if any(_is_control(char) for char in decoded):
        return False
    path = decoded.replace("\\", "/")
    if not path.startswith("/") or path.startswith("//"):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None) -> str:
    """Where to send the user after signing in or switching language: `target` when it is a path
    on this site, otherwise the home page, so no link can bounce users to another site."""
    return target if is_local_path(target) else url_for("main.index")


def _user_key() -> str:
    """Per signed-in account (the id, not the session), else per client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


def _refused(response) -> bool:
    return response.status_code >= 400


def per_user_limit(setting: str):
    """Limit the refused attempts of one account at a view, e.g. signing with a wrong password;
    the limit string is read from the config key `setting`."""
    return limiter.limit(lambda: current_app.config[setting], key_func=_user_key, methods=["POST"],
                         deduct_when=_refused)


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        # Only the last `proxies` hops are ours; an address a client wrote itself is never believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        extra = g.get("csp_extra")
        headers.setdefault("Content-Security-Policy",
                           content_security_policy(extra) if extra else CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html" or response.is_json:
            # Pages and JSON carry patient data: never keep them in shared caches or the back button.
            headers.setdefault("Cache-Control", "no-store")
        return response
