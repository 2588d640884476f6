"""Schema migrations through Flask-Migrate, loaded only when a migration runs rather than at every start."""

# Flask-Migrate imports Alembic (and with it Mako and Pygments) at import time: a tenth of the start-up of
# every web worker, worker and `flask` command, and only `flask db …`, the test set-up and the benchmark
# scripts migrate. `flask --help` lists `db` from the stand-in group below without loading them.

import click
from flask import Flask, current_app

OPTIONS = {"render_as_batch": True, "compare_type": True}


def bind(app: Flask) -> None:
    """Bind Flask-Migrate to `app` once; it replaces the stand-in `db` group with its own."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        from app.extensions import db

        Migrate(app, db, **OPTIONS)


def upgrade(revision: str = "head", **kwargs) -> None:
    """flask_migrate.upgrade for the current app (inside its app context)."""
    bind(current_app._get_current_object())
    from flask_migrate import upgrade as run

    run(revision=revision, **kwargs)


class MigrationCommands(click.Group):
    """`flask db`: Flask-Migrate's own group takes over as soon as `db` is invoked (its options, its
    commands, its help); the app context is active by then."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        bind(current_app._get_current_object())
        from flask_migrate.cli import db

        return db.make_context(info_name, args, parent=parent, **extra)


def init_app(app: Flask) -> None:
    app.cli.add_command(MigrationCommands("db", help="Perform database migrations."))
