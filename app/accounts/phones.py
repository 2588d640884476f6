"""Phone numbers: parsed with phonenumbers and stored in E.164."""

from flask import current_app


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, region: str | None = None) -> str:
    """Parse what a user typed ('138 0013 8000', '+86 138…') into '+8613800138000'."""
    import phonenumbers  # its metadata for every region loads with the first number, not at every start

    region = region or current_app.config.get("PHONE_DEFAULT_REGION", "CN")
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str | None) -> str:
    """'+8613800138000' → '+86 138****8000' for pages that need not show the whole number."""
    if not e164:
        return ""
    return f"{e164[:-8]}****{e164[-4:]}" if len(e164) > 8 else e164
