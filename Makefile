# Ascend Migration Lab — everything a fresh machine needs goes through these targets.
#   make lab    create .venv, install, open JupyterLab on the start page
#   make test   create/update .venv, run the whole test suite
# The install step is a stamp file: it re-runs only when pyproject.toml or
# constraints.txt change (or .venv is missing).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# JupyterLab refuses to start as root (containers) unless told it is fine.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test install exercises bench clean notebooks-clean help

help:
	@echo "make lab        - install (if needed) and open JupyterLab on the start page"
	@echo "make test       - install (if needed) and run the whole test suite"
	@echo "make exercises  - regenerate exercises/ from solutions/ with nbgrader"
	@echo "make bench      - run the performance benchmarks (ratios against a baseline)"
	@echo "make notebooks-clean - strip outputs and normalise metadata of every notebook"
	@echo "make clean      - remove .venv and caches"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --progress-bar off -c constraints.txt -e ".[dev]"
	# The course kernel: notebooks say "python3"; this one runs inside .venv.
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (Ascend Migration Lab)" >/dev/null
	# nbgrader: formgrader for instructors, validate + assignment list for learners.
	$(BIN)/jupyter labextension enable @jupyter/nbgrader >/dev/null 2>&1 || true
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.formgrader >/dev/null 2>&1
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.validate_assignment >/dev/null 2>&1
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.assignment_list >/dev/null 2>&1
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.course_list >/dev/null 2>&1
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(LAB_ARGS)

# Byte-compile the lab's own modules first (pip did the dependencies): the suite starts many
# kernels and subprocesses, and each would recompile them (~0.4 s apiece) where PYTHONDONTWRITEBYTECODE is set.
test: $(STAMP)
	$(PY) -m compileall -q ascend_compat >/dev/null
	$(PY) -m pytest -n $(JOBS) --dist loadfile --nbval-lax -p no:cacheprovider

exercises: $(STAMP)
	$(BIN)/ascend-lab exercises generate

notebooks-clean: $(STAMP)
	$(PY) -m ascend_compat.notebook_hygiene --fix notebooks solutions exercises

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
