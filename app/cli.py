"""Command-line entry points: `flask worker`, `flask seed-demo`, and feature groups (`flask bench seed`)."""

import click
from flask import Flask, current_app

from app.adherence.cli import adherence
from app.benchdata.cli import bench
from app.checks.cli import checks
from app.extensions import db
from app.inventory.cli import inventory
from app.payments.cli import payments
from app.platform.cli import platform


def register(app: Flask) -> None:
    app.cli.add_command(adherence)
    app.cli.add_command(bench)
    app.cli.add_command(checks)
    app.cli.add_command(inventory)
    app.cli.add_command(payments)
    app.cli.add_command(platform)

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run every job once and exit.")
    def worker_command(once: bool) -> None:
        """Sweep due rows (SMS to send, codes to expire) until stopped."""
        from app import worker

        if once:
            click.echo(worker.run_once())
            return
        worker.run_forever(current_app.config["WORKER_POLL_SECONDS"])

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo stores and one account per role (idempotent) and print the logins."""
        from app.demo import seed_demo

        logins = seed_demo()
        db.session.commit()
        click.echo("Demo logins (password is the same for all):")
        for role, login, password in logins:
            click.echo(f"  {role:<11} {login:<28} {password}")
