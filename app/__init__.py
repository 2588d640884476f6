"""Application factory for the internet hospital and its DTP pharmacy chain."""

import logging
import os

from flask import Flask

from config import CONFIGS, INSTANCE_DIR


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the application; `overrides` lets tests and tools replace single settings."""
    config_name = config_name or os.environ.get("APP_CONFIG", "development")
    if config_name not in CONFIGS:
        raise ValueError(f"Unknown configuration {config_name!r}; use one of {sorted(CONFIGS)}.")
    app = Flask(
        __name__,
        static_folder="../static",
        template_folder="../templates",
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_mapping(CONFIGS[config_name].init())
    app.config.from_mapping(overrides or {})
    app.config["CONFIG_NAME"] = config_name
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    register_extensions(app)
    register_blueprints(app)
    register_integrations(app)
    register_cli(app)
    register_errorhandlers(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import (
        database,
        i18n,
        models,  # noqa: F401  (every table on the metadata before anything uses it)
        schema,
        security,
        sessions,
    )
    from app.extensions import babel, bootstrap, csrf, db, limiter, login_manager

    db.init_app(app)
    database.configure_engines(app)
    schema.init_app(app)  # `flask db …`: Flask-Migrate and Alembic load when a migration runs
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    security.init_app(app)
    sessions.init_app(app)

    from app.accounts import auth

    auth.init_login_manager(login_manager)
    login_manager.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app import request_guard, templating
    from app.accounts import bp as accounts_bp
    from app.adherence import bp as adherence_bp
    from app.admin import bp as admin_bp
    from app.audit import bp as audit_bp
    from app.consultations import bp as consultations_bp
    from app.delivery import bp as delivery_bp
    from app.drugs import bp as drugs_bp
    from app.main import bp as main_bp
    from app.orders import bp as orders_bp
    from app.patients import bp as patients_bp
    from app.payments import bp as payments_bp
    from app.platform import bp as platform_bp
    from app.platform import views as _platform_pages  # noqa: F401  (its routes register on import)
    from app.prescribing import bp as prescribing_bp
    from app.reminders import bp as reminders_bp
    from app.review import bp as review_bp
    from app.sms import bp as sms_bp
    from app.stock import bp as stock_bp

    templating.init_app(app)
    # Before any rule is added: every <int:…> id in every blueprint is bounded to what a column holds.
    request_guard.init_app(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(drugs_bp)
    app.register_blueprint(prescribing_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(stock_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(delivery_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(adherence_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(platform_bp)


def register_integrations(app: Flask) -> None:
    from app.integrations import sms, stripe_gateway

    sms.init_app(app)
    stripe_gateway.init_app(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register_handlers

    register_handlers(app)
