# Two commands set everything up: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev translations bytecode migrate seed lint bench mutation extract-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
# axe-core, which the accessibility browser test loads into each page (a dev dependency only).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d translations 2>&1 | grep -v "^compiling" || true
	$(BIN)/pybabel compile -d translations >/dev/null

# The app's own modules compiled once (pip compiles the packages it installs). Where
# PYTHONDONTWRITEBYTECODE is set Python never caches them itself, and every start of the app or of a
# `flask` command compiled some 180 modules again (a quarter of a second); a changed file's stale
# bytecode is ignored, and this brings it up to date.
bytecode: install
	$(BIN)/python -m compileall -q -j 0 app config.py wsgi.py

migrate: install translations bytecode
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

# Serves on http://127.0.0.1:5000 with the worker and localstripe (the offline Stripe) beside
# it; Ctrl-C stops all three. Two sync workers, one per core: on the load benchmark they served every
# page with less CPU and a lower p95 than 2 x 4 gthread workers (docs/performance.md).
# Rate limits live in Redis at REDIS_URL (default redis://127.0.0.1:6379/0) when one answers, so
# both web workers count together; otherwise each worker counts on its own, and the line says so.
run: install-dev seed
	@echo "Serving on http://127.0.0.1:5000  (the demo logins are listed above)"
	@echo "SMS go to the local Twilio stand-in on 127.0.0.1:8421; read them and reply at /sms/phone"
	@echo "Dispensing is pushed, de-identified, to the local data-platform receiver on 127.0.0.1:8765 (push health at /platform/)"
	@store=$$($(BIN)/python config.py limiter-store) || exit 1; \
	trap 'kill $$worker $$stripe $$twilio $$platform 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m devtools.localstripe_runner --port 8420 \
		--webhook-url http://127.0.0.1:5000/payments/webhooks/stripe \
		--webhook-secret whsec_localstripe_development & stripe=$$!; \
	$(BIN)/python -m devtools.twilio_fake --port 8421 --deliver-after 2 & twilio=$$!; \
	$(BIN)/flask platform receive --port 8765 & platform=$$!; \
	export SMS_BACKEND=twilio TWILIO_API_BASE=http://127.0.0.1:8421 TWILIO_FROM_NUMBER=+15005550006; \
	export PLATFORM_PUSH_URL=http://127.0.0.1:8765/fhir; \
	$(BIN)/flask worker & worker=$$!; \
	RATELIMIT_STORAGE_URI="$$store" $(BIN)/gunicorn --bind 127.0.0.1:5000 --workers 2 --worker-class sync --access-logfile - wsgi:app

test: install-dev translations
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .

# Mutation testing (docs/mutation.md): mutmut over the pure rule modules, each against the fast tests
# that cover it (devtools/mutation.toml), on SQLite, then every listed limit moved one step each way;
# the report goes to build/mutation/report.md, and the run fails while a survivor is neither killed nor
# explained in docs/mutation.md. Not part of `make test` (over two hours on 2 cores).
# MODULES="app/numbers.py checks-engine limits" runs only those modules, targets or the limits; the
# report keeps the sections of those run before.
mutation: $(VENV)/.installed-dev translations
	$(BIN)/python -m devtools.mutation $(MODULES)

# The load benchmark (docs/performance.md): PostgreSQL databases bench_scale1 and bench_scale20 on
# BENCH_SERVER, made and seeded on first use (a few minutes), then gunicorn in production configuration
# under wrk for every main page, 2 sync workers and 2 x 4 gthread workers. Needs wrk and Redis.
BENCH_SERVER ?= postgresql+psycopg://postgres@127.0.0.1:5432
bench: install translations bytecode
	@command -v wrk >/dev/null || { echo "The load benchmark needs wrk: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python bench/load.py $$($(BIN)/python bench/prepare.py --server $(BENCH_SERVER) scale1=1 scale20=20)

# Refresh the message catalogues after changing user-facing text.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".*" --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance build .pytest_cache .ruff_cache
