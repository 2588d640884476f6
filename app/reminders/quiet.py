"""Quiet hours for notices: a message that would reach the patient at night waits for the morning."""

from datetime import datetime

from flask import current_app

from app.reminders import schedule


def outside_quiet_hours(moment: datetime, zone: str | None) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (SMS_QUIET_START–SMS_QUIET_END in the
    patient's zone, or the clinic's when the zone is unknown), as an aware UTC-comparable datetime."""
    config = current_app.config
    try:
        prefs = schedule.Preferences(zone=zone or config["BABEL_DEFAULT_TIMEZONE"],
                                     quiet_start=config["SMS_QUIET_START"], quiet_end=config["SMS_QUIET_END"])
    except ValueError:
        prefs = schedule.Preferences(zone=config["BABEL_DEFAULT_TIMEZONE"],
                                     quiet_start=config["SMS_QUIET_START"], quiet_end=config["SMS_QUIET_END"])
    return schedule.end_of_quiet(moment, prefs)
