"""Language and time-zone choice: the user's saved language, else the session, else Accept-Language."""

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

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
    return normalise(str(get_locale())) or "en"


def init_app(app: Flask) -> None:
    @app.context_processor
    def language_context():
        lang = current_language()
        return {
            "current_language": lang,
            "html_lang": HTML_LANG[lang],
            "language_names": LANGUAGE_NAMES,
        }
