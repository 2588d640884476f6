"""`flask adherence pdc FILE.json`: each drug's Proportion of Days Covered from a list of fills."""

import json
import re
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app.adherence import pdc as rules
from app.limits import Bound
from app.numbers import NumberError, parse_int

adherence = AppGroup("adherence", help="Medication adherence: the Proportion of Days Covered (PQA method).")

TOP_KEYS = {"period_end", "fills"}
FILL_KEYS = {"drug", "date", "days_supply"}
DAYS_SUPPLY = Bound(1, rules.MAX_DAYS_SUPPLY)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MAX_PROBLEMS_SHOWN = 20


def _shown(value) -> str:
    """A bad value in a message, cut short: the file may hold anything."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _date(value, where: str, problems: list[str]) -> date | None:
    # fromisoformat alone would also take 20260101 and 2026-W01-1; the file format is YYYY-MM-DD.
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{where}: not a date: {_shown(value)} (write YYYY-MM-DD, e.g. 2026-03-31).")
    return None


def _keys(item: dict, expected: set[str], where: str, problems: list[str]) -> None:
    problems.extend(f"{where}: missing {key!r}." for key in sorted(expected - item.keys()))
    problems.extend(f"{where}: unknown key {_shown(key)}." for key in sorted(item.keys() - expected))


def _fill(index: int, item, problems: list[str]) -> rules.Fill | None:
    where = f"fills[{index}]"
    if not isinstance(item, dict):
        problems.append(f"{where}: each fill must be an object with {sorted(FILL_KEYS)}.")
        return None
    _keys(item, FILL_KEYS, where, problems)
    if FILL_KEYS - item.keys():  # already reported
        return None
    drug = item["drug"].strip().casefold() if isinstance(item["drug"], str) else ""
    if not drug:
        problems.append(f"{where}: 'drug' must be a drug name, not {_shown(item['drug'])}.")
    if drug:
        where = f"{where} ({drug[:40]})"
    filled_on = _date(item["date"], where, problems)
    try:
        days_supply = parse_int(item["days_supply"], DAYS_SUPPLY)
    except NumberError:
        problems.append(f"{where}: days_supply must be a whole number of days from 1 to "
                        f"{rules.MAX_DAYS_SUPPLY}, not {_shown(item['days_supply'])}.")
        return None
    if not drug or filled_on is None:
        return None
    return rules.Fill(drug=drug, filled_on=filled_on, days_supply=days_supply)


def read(path: str) -> tuple[date, list[rules.Fill]]:
    """The period end and the fills in FILE; ClickException listing every problem otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise click.ClickException(f"{path}: cannot read the file: {error.strerror or error}.") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise click.ClickException(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}.") from None
    except ValueError as error:  # e.g. an integer literal longer than Python converts
        raise click.ClickException(f"{path}: not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise click.ClickException(f'{path}: expected an object {{"period_end": ..., "fills": [...]}}.')
    problems: list[str] = []
    _keys(data, TOP_KEYS, "file", problems)
    period_end = _date(data["period_end"], "period_end", problems) if "period_end" in data else None
    fills = data.get("fills", [])
    if not isinstance(fills, list):
        problems.append("fills: must be a list of fills.")
        fills = []
    parsed = [_fill(index, item, problems) for index, item in enumerate(fills)]
    if problems or period_end is None:
        more = len(problems) - MAX_PROBLEMS_SHOWN
        lines = [f"  {problem}" for problem in problems[:MAX_PROBLEMS_SHOWN]]
        lines += [f"  ... and {more} more."] if more > 0 else []
        raise click.ClickException(f"{path}:\n" + "\n".join(lines))
    return period_end, [fill for fill in parsed if fill is not None]


@adherence.command("pdc")
@click.argument("fills_file", metavar="FILE")
def pdc_command(fills_file: str) -> None:
    """Print each drug's PDC as JSON, from its first fill to period_end.

    FILE is JSON: {"period_end": "2026-03-31", "fills": [{"drug": "amlodipine", "date": "2026-01-01",
    "days_supply": 30}, ...]}. Drug names are grouped ignoring case and surrounding spaces. A drug
    with fewer than two fills on different dates is printed with "eligible": false.
    """
    period_end, fills = read(fills_file)
    results = rules.pdc_by_drug(fills, period_end)
    click.echo(json.dumps({drug: result.to_dict() for drug, result in results.items()},
                          sort_keys=True, ensure_ascii=False, indent=2))
