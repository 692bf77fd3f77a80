# twinloop: `make demo` runs a short end-to-end demonstration, `make test` the test suite.
# The virtual environment is created on first use (python3.11, plain pip).

VENV   := .venv
PYTHON := $(VENV)/bin/python

.PHONY: install demo test bench clean distclean what-if synthetic-fraction-molding defect-augmentation closed-loop synthetic-fraction-billets

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PYTHON) || python3.11 -m venv $(VENV)
	$(PYTHON) -m pip install --upgrade pip
	$(VENV)/bin/pip install -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/twinloop demo

test: $(VENV)/.installed
	$(PYTHON) -m pytest

bench: $(VENV)/.installed
	$(PYTHON) -m benchmarks

# Scenarios for process engineers (README, "Scenarios"); each writes runs/<name>/report.html.
what-if: $(VENV)/.installed
	$(VENV)/bin/twinloop run scenarios/what_if_defect_rate.toml --out runs/what_if --overwrite

synthetic-fraction-molding: $(VENV)/.installed
	$(VENV)/bin/twinloop run scenarios/synthetic_fraction_molding.toml --out runs/synthetic_fraction_molding --overwrite

defect-augmentation: $(VENV)/.installed
	$(VENV)/bin/twinloop run scenarios/defect_augmentation.toml --out runs/defect_augmentation --overwrite

closed-loop: $(VENV)/.installed
	$(VENV)/bin/twinloop run scenarios/closed_loop.toml --out runs/closed_loop --overwrite

synthetic-fraction-billets: $(VENV)/.installed
	$(VENV)/bin/twinloop run scenarios/synthetic_fraction_billets.toml --out runs/synthetic_fraction_billets --overwrite

clean:
	rm -rf build dist *.egg-info .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
