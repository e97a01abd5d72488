# rules_debuginfo developer entry points. `make demo` and `make test` work on
# a fresh machine once .ci/run's packages are installed (tools/deps.sh).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := $(CURDIR)/bin
CACHE := $(CURDIR)/.cache
DEBUGINFO := $(BIN)/debuginfo
DEMO := $(CACHE)/demo

.PHONY: all build deps demo test test-unit test-bazel test-make test-cmake test-fuzz lint bench clean

all: build

build:
	$(GO) build -o $(DEBUGINFO) ./uploader/cmd/debuginfo

# The main job: build a real C program with gcc, upload its debuginfo and
# sources to an embedded local store (Parca's bucket layout), and show it.
demo: build
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	cd examples/demo && gcc -g -O1 -Iinclude -o $(DEMO)/hello src/main.c src/greet/greet.c
	$(DEMO)/hello
	$(DEBUGINFO) buildid $(DEMO)/hello
	cd examples/demo && $(DEBUGINFO) upload --store-address=file://$(DEMO)/store --include-sources $(DEMO)/hello
	@echo "--- the store now holds:"
	@cd $(DEMO)/store && find . -type f | sort
	@echo "--- a second run skips what the store already has:"
	cd examples/demo && $(DEBUGINFO) upload --store-address=file://$(DEMO)/store --include-sources $(DEMO)/hello

# Installs Debian packages, Go modules and the pinned Parca server (idempotent).
deps:
	tools/deps.sh

# The whole suite (what CI runs): static checks, unit and integration tests
# (including the real-Parca end-to-end tests), bounded fuzzing, and the Make
# and Bazel end-to-end scripts.
test: deps
	$(MAKE) lint
	$(MAKE) test-unit
	$(MAKE) test-fuzz
	$(MAKE) test-make
	$(MAKE) test-cmake
	$(MAKE) test-bazel

lint: build
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	tools/buildifier.sh --mode=check --lint=warn
	tools/gazelle.sh -mode=diff
	$(GO) run ./tools/docscheck -debuginfo $(DEBUGINFO)

test-unit:
	$(GO) test -count=1 ./...

test-fuzz:
	tools/fuzz.sh 10s

# Both scripts check the embedded store and a real Parca server.
test-bazel: build
	tests/with-parca.sh tests/bazel/e2e.sh

test-make: build
	tests/with-parca.sh tests/make/e2e.sh

test-cmake: build
	tests/with-parca.sh tests/cmake/e2e.sh

bench: build
	bench/run.sh

clean:
	rm -rf $(BIN) $(CACHE)
