# gatescope: `make demo` and `make test` are all a newcomer needs; both set up the venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gatescope-installed
JOBS ?= 2
# `make demo FSDD=DIR` (FSDD's recordings/ folder) gives the demo's real-speech check a local copy of the Free
# Spoken Digit Dataset (else it downloads the pinned release), NOISE_DIR=DIR (recorded noises) the recorded-noise
# condition of its robustness report.
FSDD ?=
NOISE_DIR ?=

.PHONY: setup os-packages test-os-packages demo test bench bench-gpu lint format constraints clean FORCE

setup: $(STAMP) os-packages

# Debian packages that no wheel provides: flite and festival with three voices (synthesizers with voices of
# real speakers, for `corpus synth`), PortAudio for the microphone, and PulseAudio for the virtual-microphone
# test. Installed where this user may (root, or sudo without a password); otherwise one line says what is missing.
OS_PACKAGES := flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts pulseaudio pulseaudio-utils \
  libasound2-plugins libportaudio2
OS_MISSING := without flite or festival corpus synth leaves that synthesizer out, without PortAudio no --mic, \
  without PulseAudio the microphone test is skipped
# For `make test` only: Chromium opens the HTML reports headless to check that every image decodes.
TEST_OS_PACKAGES := chromium
TEST_OS_MISSING := the browser check of the HTML reports is skipped

# $(call apt_install,PACKAGES,WHAT IS LOST WITHOUT THEM): install the missing ones, or say in one line what is lost.
define apt_install
	@missing=; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" \
	  || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then as=; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as=sudo; \
	else as=no; fi; \
	if [ "$$as" != no ] && command -v apt-get >/dev/null && { $$as apt-get install -y -qq $$missing || \
	  { $$as apt-get update -qq && $$as apt-get install -y -qq $$missing; }; } >/dev/null 2>&1; then exit 0; fi; \
	echo "make: Debian package(s)$$missing not installed (needs apt-get as root): $(2)"
endef

os-packages:
	$(call apt_install,$(OS_PACKAGES),$(OS_MISSING))

test-os-packages:
	$(call apt_install,$(TEST_OS_PACKAGES),$(TEST_OS_MISSING))

# The package's files, listed anew on every run but rewritten only when a file is added or removed: a strict
# editable install links each file, so a new module needs a re-install, an edited one does not.
FILE_LIST := $(VENV)/.gatescope-files
$(FILE_LIST): FORCE
	@mkdir -p $(VENV)
	@find gatescope asr noise analysis conf -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | LC_ALL=C sort > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi
FORCE:

# Re-installs only when the pins, the package metadata or the package's file list change (idempotent). The strict
# editable install gives static tools (mypy, IDEs) a real gatescope/ tree of links to our files.
$(STAMP): requirements.txt constraints.txt pyproject.toml $(FILE_LIST)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e . --config-settings editable_mode=strict
	touch $@

demo: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" recipes/synth/run.sh --jobs $(JOBS) $(if $(FSDD),--fsdd "$(abspath $(FSDD))") \
	  $(if $(NOISE_DIR),--noise-dir "$(abspath $(NOISE_DIR))")

# Test files spread over two processes (pytest-xdist; a file's tests stay together, so its fixtures are made once),
# each with its share of the cores as its thread count (tests/conftest.py): 7.2 min of tests on two cores from a
# clean clone (9.6 min with make setup from nothing). TEST_WORKERS=1 runs them in this process.
TEST_WORKERS ?= 2
test: setup test-os-packages
	$(PY) -m pytest -q tests $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

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
	if [ -f recipes/synth/data/train/feats.scp ]; then $(PY) bench/train_speed.py --data recipes/synth/data --layers 3 --hidden 256 --frame-stack 3 --batch-size 8 --augment-from recipes/synth/conf/lstm.yaml; else echo "bench/train_speed.py --augment-from: skipped (run make demo first)"; fi

# The same benchmarks on CUDA plus a DDP scaling run over every GPU; one line and exit 0 without CUDA.
bench-gpu: setup
	PY=$(PY) bench/gpu.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# mypy reads the installed package: the strict editable install's tree of links to our files. It runs from
	@# .venv/ because mypy always searches its working directory first, where the checkout's gatescope/ folder
	@# would hide asr/, noise/ and analysis/.
	cd $(VENV) && "$(CURDIR)/$(PY)" -m mypy --config-file "$(CURDIR)/pyproject.toml" -p gatescope

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

constraints: setup
	$(PY) -m pip freeze --exclude-editable | { echo "# Every installed package, pinned: \`pip freeze\` of a venv made by \`make setup\` (x86_64, Python 3.11)."; echo "# Regenerate with \`make constraints\` after changing requirements.txt."; cat; } > constraints.txt

clean:
	rm -rf recipes/*/data recipes/*/exp bench/results .pytest_cache .mypy_cache .ruff_cache
