"""`flask bench seed --scale S`: benchmark data for a freshly migrated database."""

import sys

import click

from app.benchdata.volumes import DEFAULT_SEED, MAX_SCALE, MIN_SCALE, ScaleError, Volumes
from app.extensions import db


@click.group("bench")
def bench() -> None:
    """Benchmark data."""


@bench.command("seed")
@click.option("--scale", type=float, required=True,
              help=f"1 = 10,000 patients; above {MIN_SCALE:g}, at most {MAX_SCALE:g}.")
@click.option("--seed", "random_seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="Random seed: the same scale and seed give the same rows.")
def seed_command(scale: float, random_seed: int) -> None:
    """Fill an empty, migrated database with consistent bench data in bulk and print the logins."""
    # Imported here: every `flask` command loads this group, and only this one needs the generator.
    from app.benchdata.seed import AlreadySeeded, estimated_rows, seed

    try:
        volumes = Volumes.at(scale)
    except ScaleError as error:
        raise click.BadParameter(str(error), param_hint="--scale") from None
    with click.progressbar(length=estimated_rows(volumes), label=f"Seeding scale {scale:g}",
                           file=sys.stderr, show_pos=True) as bar:
        try:
            report = seed(db.session, scale, random_seed=random_seed, progress=bar.update)
        except AlreadySeeded as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
    click.echo(f"Seeded scale {scale:g} in {report.seconds:.0f} s:")
    for table, count in sorted(report.counts.items()):
        click.echo(f"  {table:<24} {count:>12,}")
    click.echo(f"Bench logins (password: {report.password}):")
    for role, email in report.logins:
        click.echo(f"  {role:<11} {email}")
