"""Language and time-zone choice: the user's saved language, else the session, else Accept-Language."""

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# The BCP 47 tag for <html lang>: Simplified Chinese as used in mainland China.
HTML_LANG = {"en": "en", "zh": "zh-Hans-CN"}


def supported() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def normalise(code: str | None) -> str | None:
    """Map 'zh-CN', 'zh_Hans_CN', 'ZH' … onto a supported code, or None."""
    if not code:
        return None
    primary = code.replace("-", "_").split("_")[0].lower()
    return primary if primary in supported() else None


def select_locale() -> str:
    if not has_request_context():  # CLI commands and worker jobs: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        chosen = normalise(current_user.locale)
        if chosen:
            return chosen
    chosen = normalise(session.get("locale"))
    if chosen:
        return chosen
    return request.accept_languages.best_match(supported()) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def select_timezone() -> str:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.time_zone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_language() -> str:
    # Called for every drug and diagnosis name a list shows: the selector only ever chooses a
    # supported language, so the locale's language code is the answer without re-normalising it.
    locale = get_locale()
    language = locale.language if locale is not None else None
    return language if language in LANGUAGE_NAMES else "en"


def template_gettext(translations) -> dict:
    """`gettext` and `ngettext` for one render, bound to the catalogue chosen once for it.

    Flask-Babel's template callables look the catalogue up again for every string (several
    context-local lookups each, about a fifth of a list page's CPU time). Bound per render, a
    `force_locale` block (an SMS in the patient's language) still renders in its own language. They
    behave as Jinja's "newstyle" callables: autoescaped, and %(name)s filled from keywords."""

    @pass_context
    def gettext(context, message, **variables):
        text = translations.ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (our own catalogue, as Jinja's callables trust it)
        return text % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (our own catalogue, as Jinja's callables trust it)
        return text % variables

    # `_` too: Jinja's i18n extension defines it as a global that looks `gettext` up again on every call.
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def init_app(app: Flask) -> None:
    @app.context_processor
    def language_context():
        lang = current_language()
        return {
            "current_language": lang,
            "html_lang": HTML_LANG[lang],
            "language_names": LANGUAGE_NAMES,
            **template_gettext(get_translations()),
        }
