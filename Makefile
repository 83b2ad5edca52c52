# make demo  - crawl a real local website into a dataset and write its gallery
# make test  - lint and type checks, then the whole test suite (real Chromium on 127.0.0.1)
# make bench - floor vs pipeline on local python3-doc + postgresql-doc-15, with a 1,000-page soak
.PHONY: demo test test-fast lint bench bootstrap clean

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@scripts/demo.sh

test: bootstrap lint
	.venv/bin/python -m pytest -n 2 -q

lint: bootstrap
	.venv/bin/ruff check boxcrawl tests
	.venv/bin/ruff format --check boxcrawl tests
	.venv/bin/mypy

test-fast: bootstrap
	.venv/bin/python -m pytest -q -m "not browser"

clean:
	rm -rf demo-out .pytest_cache

bench: bootstrap
	@scripts/bootstrap.sh python3-doc postgresql-doc-15
	.venv/bin/boxcrawl bench --pages 100 --soak 1000 --json bench.json
