# rules_debuginfo developer entry points. `make demo` and `make test` work on
# a fresh machine once .ci/run's packages are installed (tools/deps.sh).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := $(CURDIR)/bin
CACHE := $(CURDIR)/.cache
DEBUGINFO := $(BIN)/debuginfo
DEMO := $(CACHE)/demo

.PHONY: all build deps demo test test-unit test-symbolize test-bazel test-remote test-release test-make test-cmake test-fuzz lint bench mutation clean

all: build

# Static, as the release is (tools/release.sh): nothing needs cgo, and a cgo
# build dies in the runtime under a lower `ulimit -v` (review s14-r2).
build:
	CGO_ENABLED=0 $(GO) build -o $(DEBUGINFO) ./uploader/cmd/debuginfo

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
	$(MAKE) test-symbolize
	$(MAKE) test-fuzz
	$(MAKE) test-make
	$(MAKE) test-cmake
	$(MAKE) test-bazel
	$(MAKE) test-remote
	$(MAKE) test-release

lint: build
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	tools/buildifier.sh --mode=check --lint=warn
	tools/gazelle.sh -mode=diff
	$(GO) run ./tools/docscheck -debuginfo $(DEBUGINFO)
	tools/check_module.py
	tools/install_doc.sh --check

test-unit:
	$(GO) test -count=1 -timeout 40m ./...

# What a real Parca shows for profiles of uploaded binaries: names,
# file:line, inlined frames and sources, in both address forms.
test-symbolize: build
	cd tests/parca && GOWORK=off DEBUGINFO=$(DEBUGINFO) $(GO) test -count=1 -timeout 40m ./...

test-fuzz:
	tools/fuzz.sh 10s

# Both scripts check the embedded store and a real Parca server.
test-bazel: build
	tests/with-parca.sh tests/bazel/e2e.sh

# Remote execution: Bazel's own remote worker, Parca and Bazel in a network
# namespace of the script's own (needs root or user namespaces).
test-remote: build
	tests/remote/e2e.sh

test-make: build
	tests/with-parca.sh tests/make/e2e.sh

test-cmake: build
	tests/with-parca.sh tests/cmake/e2e.sh

# The release path: tools/release.sh twice (same bytes), versions.bzl against the
# artifacts, and e2e/smoke consuming the release through file:// URLs on Bazel 4.2.3.
test-release:
	tests/bazel/smoke.sh

bench: build
	bench/run.sh

# Mutation testing with gremlins, pinned like staticcheck above: efficacy per
# core package, failing under 90%. Hours on a loaded 2-core machine, so it
# runs beside `make bench`, not in CI (docs/testing.md). Some packages only:
# make mutation PKGS="store upload"
GREMLINS_VERSION := v0.6.0
mutation:
	GREMLINS_VERSION=$(GREMLINS_VERSION) tools/mutation.sh $(PKGS)

clean:
	rm -rf $(BIN) $(CACHE)
