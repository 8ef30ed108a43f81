# gatescope: `make demo` and `make test` are all a newcomer needs; both set up the venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gatescope-installed
JOBS ?= 2

.PHONY: setup demo test bench lint format constraints clean

setup: $(STAMP)

# Re-installs only when the pins or the package metadata change (idempotent).
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

demo: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" recipes/synth/run.sh --jobs $(JOBS)

test: setup
	$(PY) -m pytest -q tests

bench: setup
	$(PY) bench/corpus_speed.py
	$(PY) bench/fbank_speed.py
	$(PY) bench/noise_speed.py
	@# Streaming uses the demo's test set and models: run `make demo` first.
	if [ -f recipes/synth/data/test/feat_conf.yaml ]; then $(PY) bench/stream_speed.py; else echo "bench/stream_speed.py: skipped (run make demo first)"; fi
	if [ -f recipes/wsj/exp/lstm/best.ckpt ]; then $(PY) bench/lm_decode_speed.py; else echo "bench/lm_decode_speed.py: skipped (run recipes/wsj/run.sh first)"; fi
	$(PY) bench/cells_speed.py
	$(PY) bench/train_speed.py
	$(PY) bench/train_speed.py --layers 3 --hidden 256 --frame-stack 3 --batch-size 8

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# mypy cannot follow pyproject's package-dir mapping: give it a tree of links shaped like the package.
	rm -rf build/typecheck && mkdir -p build/typecheck/gatescope
	for f in gatescope/*.py; do ln -s "$(CURDIR)/$$f" build/typecheck/gatescope/; done
	for d in asr noise analysis; do ln -s "$(CURDIR)/$$d" build/typecheck/gatescope/$$d; done
	cd build/typecheck && "$(CURDIR)/$(PY)" -m mypy --config-file "$(CURDIR)/pyproject.toml" -p gatescope

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

constraints: setup
	$(PY) -m pip freeze --exclude-editable | { echo "# Every installed package, pinned: \`pip freeze\` of a venv made by \`make setup\` (x86_64, Python 3.11)."; echo "# Regenerate with \`make constraints\` after changing requirements.txt."; cat; } > constraints.txt

clean:
	rm -rf recipes/*/data recipes/*/exp bench/results .pytest_cache .mypy_cache .ruff_cache build
