# Two commands matter: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYENV_ROOT ?= $(HOME)/.pyenv
APT_TEST_PKGS := busybox-static skopeo umoci tmux docker-registry tini runc

# First interpreter >= 3.12: PATH, then pyenv's versions (newest first).
FIND_PY = for p in python3.13 python3.12 python3 $$(ls -d $(PYENV_ROOT)/versions/3.*/bin/python3 2>/dev/null | sort -rV); do \
	  if command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v "$$p"; exit 0; fi; done; \
	echo "no Python >= 3.12 found (PATH or $(PYENV_ROOT)/versions)" >&2; exit 1

.PHONY: run test check bench screenshots venv sysdeps clean
run: $(STAMP)
	$(VENV)/bin/pydock-tui

venv: $(STAMP)
# editable_mode=compat: a plain path in a .pth file. The default editable mode
# installs an import hook whose own imports cost every pydock command ~10 ms at
# start-up. setuptools calls compat transitional: if a release drops it, the
# default mode is used. Then pydock's script becomes a launcher that skips site
# (app/cli/launcher.py): ~2 ms of every command.
$(STAMP): pyproject.toml
	@test -x $(PY) || { py=$$($(FIND_PY)) && echo "using $$py" && "$$py" -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat 2>/dev/null \
	  || $(PY) -m pip install -q -e '.[test]'
	$(PY) -m app.cli.launcher $(VENV)/bin/pydock
	@touch $@

# A temporary policy-rc.d (exit 101) keeps packages such as docker-registry from
# starting their services at install time; it is removed again, even on failure.
sysdeps:
	@missing=""; for p in $(APT_TEST_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  rcd=/usr/sbin/policy-rc.d; \
	  if [ ! -e $$rcd ]; then printf '#!/bin/sh\nexit 101\n' >$$rcd && chmod 755 $$rcd && trap 'rm -f '$$rcd EXIT; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: $(STAMP) sysdeps
	$(PY) -m pytest -q

check: $(STAMP)
	$(VENV)/bin/ruff check engine app widgets tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -q tests/unit/test_import_rule.py

bench: $(STAMP) sysdeps
	$(PY) -m bench

# Every panel as SVG (PNG too when rsvg-convert, cairosvg or inkscape is there), from
# a throwaway root seeded with images, containers, volumes and networks. Needs root.
screenshots: $(STAMP) sysdeps
	$(PY) screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache
