"""Security headers on every response; the CSP allows no inline script or style."""

from flask import Flask, g

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


def init_app(app: Flask) -> None:
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
        if response.mimetype == "text/html":
            # Pages carry patient data: never keep them in shared caches or the back button.
            headers.setdefault("Cache-Control", "no-store")
        return response
