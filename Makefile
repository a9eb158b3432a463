# wactor: build, run and test. `make help` lists the targets.

GO       ?= go
CLANG    ?= clang
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Bounds for the long-running targets. go test -race ./host/ takes about
# 10 minutes alone, and took 18 beside the other packages on a busy
# machine: the bound is for a test that hangs, not for a slow machine.
TESTTIMEOUT ?= 30m
BENCHTIME   ?= 1s
FUZZTIME    ?= 10s
BENCHFLAGS  ?=
# More flags for wactor run in make run, e.g. RUNFLAGS=--http-addr=127.0.0.1:9090
RUNFLAGS    ?=

# Every Go module of the repository (the root, abi, guest-sdk/go,
# examples/wasm, ...), found by its go.mod.
MODULES := $(sort $(patsubst ./%,%,$(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path './bin/*' -not -path '*/testdata/*'))))

# The example actors: examples/wasm/NAME/main.go (Go) and
# examples/wasm/c/NAME/NAME.c (C, built as NAME-c.wasm).
GO_EXAMPLES := $(patsubst examples/wasm/%/main.go,%,$(wildcard examples/wasm/*/main.go))
C_EXAMPLES  := $(patsubst examples/wasm/c/%/,%,$(dir $(wildcard examples/wasm/c/*/*.c)))
GO_WASM := $(GO_EXAMPLES:%=bin/wasm/%.wasm)
C_WASM  := $(C_EXAMPLES:%=bin/wasm/%-c.wasm)

CFLAGS_WASM := --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wl,--strip-debug -I guest-sdk/c
C_TOOLCHAIN_HINT := the C examples need clang and wasm-ld for wasm32-wasi. On Debian or Ubuntu: \
	sudo apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32

.PHONY: all help build build-go build-c build-rust build-as run cluster-demo toolchains test test-rust test-as test-browser conformance bench-suite bench check fuzz crashtest clustertest clean FORCE

all: build

help:
	@echo 'make build   bin/wactor and every example module in bin/wasm/'
	@echo 'make run     build, then run the examples of examples/wactor.yaml that built, on 127.0.0.1:8080'
	@echo 'make cluster-demo  three nodes of one cluster on 127.0.0.1:8081-8083 (docs/cluster.md); Ctrl-C stops all'
	@echo 'make test    install the guest toolchains and Chromium when missing, then every test of every module, with -race'
	@echo 'make bench   the benchmarks of host, scheduler, storage and metrics (BENCHTIME=$(BENCHTIME))'
	@echo 'make check   gofmt, go vet and go mod tidy -diff on every module'
	@echo 'make fuzz    each fuzz target for FUZZTIME=$(FUZZTIME)'
	@echo 'make crashtest  the full crash tests: 20,000 transfers, 5,000 watched quits, 3,000 announcements to 20 subscribers, each under 5 SIGKILLs'
	@echo 'make clustertest  the cluster under failures: takeovers, bank under kills (full size), join and leave under load, reminders (docs/cluster.md)'
	@echo 'make conformance  the ABI conformance suite against every SDK (docs/conformance.md)'
	@echo 'make test-browser  the dashboard in headless Chromium (docs/dashboard.md); SHOTS=DIR keeps screenshots'
	@echo 'make bench-suite  wactor vs protoactor-go, Erlang, raw wazero/badger, net/http (bench/README.md); BENCHFLAGS=-quick'
	@echo 'make clean   remove bin/'

# Each language's examples are built when its toolchain is present; a
# missing toolchain is named (with what to install) and the rest still
# builds. Go and Node.js build the Go and AssemblyScript ones; the tests
# need them all, so make test installs the C and Rust toolchains first.
build: bin/wactor build-go
	@missing=""; \
	$(MAKE) --no-print-directory build-c || missing="$$missing C"; \
	$(MAKE) --no-print-directory build-rust || missing="$$missing Rust"; \
	$(MAKE) --no-print-directory build-as || missing="$$missing AssemblyScript"; \
	if [ -n "$$missing" ]; then \
		echo "make build: not built, for want of a toolchain (see above):$$missing" >&2; \
	fi

# go build keeps its own cache, so these always ask it.
bin/wactor: FORCE
	$(GO) build -ldflags '-X main.version=$(VERSION)' -o $@ ./cmd/wactor

build-go: $(GO_WASM)

$(GO_WASM): bin/wasm/%.wasm: FORCE
	@mkdir -p bin/wasm
	cd examples/wasm && GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o ../../$@ ./$*

build-c: $(C_WASM)

# examples/wasm/c/NAME/NAME.c: the second NAME needs secondary expansion.
.SECONDEXPANSION:
$(C_WASM): bin/wasm/%-c.wasm: examples/wasm/c/%/$$*.c guest-sdk/c/wactor.c guest-sdk/c/wactor.h
	@command -v $(CLANG) >/dev/null && command -v wasm-ld >/dev/null || \
		{ echo "make: cannot build $@: $(C_TOOLCHAIN_HINT)" >&2; exit 1; }
	@mkdir -p bin/wasm
	$(CLANG) $(CFLAGS_WASM) -o $@ examples/wasm/c/$*/$*.c \
		$$(grep -q '#include "wactor.h"' examples/wasm/c/$*/$*.c && echo guest-sdk/c/wactor.c)

# The Rust examples (examples/wasm/rust) with Debian's rustc, which has the
# wasm32 standard library; the script says what to install when it is
# missing.
build-rust:
	@mkdir -p bin/wasm
	guest-sdk/rust/build.sh bin/wasm

# The AssemblyScript examples (examples/wasm/assemblyscript), with the
# compiler from npm (the script runs npm ci when it is missing).
build-as:
	@mkdir -p bin/wasm
	guest-sdk/assemblyscript/build.sh bin/wasm

# Runs the example types whose module was built: on a machine without the
# C or Rust toolchain, the others (scripts/built-manifest.sh names those
# left out).
run: build
	@scripts/built-manifest.sh examples/wactor.yaml examples/wactor.built.yaml
	bin/wactor run -f examples/wactor.built.yaml $(RUNFLAGS)

# Three nodes of one cluster on this machine (examples/cluster.yaml), in
# the foreground; Ctrl-C stops all three (docs/cluster.md).
cluster-demo: bin/wactor bin/wasm/counter.wasm
	scripts/cluster-demo.sh bin/wactor

# The C and Rust guest toolchains and Chromium (for the dashboard's browser
# test, with its npm packages), installed with apt-get when missing (as
# root or through sudo; otherwise the script says what to run).
toolchains:
	@scripts/setup-toolchains.sh

# Every module is tested even when one fails; the failures are listed last.
test: toolchains test-rust test-as
	@failed=""; for m in $(MODULES); do \
		echo "== go test -race $$m"; \
		(cd $$m && $(GO) test -race -timeout $(TESTTIMEOUT) ./...) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAIL: go test in$$failed"; exit 1; fi

# The Rust SDK's and examples' native tests (cargo test).
test-rust: toolchains
	guest-sdk/rust/test.sh

# The AssemblyScript SDK's tests (node's test runner).
test-as:
	cd guest-sdk/assemblyscript && npm ci --no-audit --no-fund && npm test

# The dashboard's tests in headless Chromium against the real binary
# (make test runs them too); SHOTS=DIR keeps a screenshot of each page.
test-browser: toolchains
	WACTOR_E2E_SHOTS=$(SHOTS) $(GO) test -race -count=1 -timeout $(TESTTIMEOUT) -run 'TestDashboard' ./e2e/

# The ABI conformance suite: every SDK's conformance actor, the same
# scenarios (make test runs it too).
conformance:
	$(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./conformance/...

# The comparative suite (bench/README.md), about 10 minutes on 2 cores;
# writes bench/results/<date>.md. BENCHFLAGS=-quick for a smoke run,
# BENCHFLAGS='-scenario ring' for one scenario. Needs wrk and erlang-base
# (apt) for the HTTP and Erlang rows; without them those rows say so.
bench-suite:
	cd bench && $(GO) run ./cmd/wactorbench $(BENCHFLAGS)

# The crash test at full size: 20,000 transfers, 5 SIGKILLs (make test runs
# a short one).
crashtest:
	WACTOR_CRASHTEST=full $(GO) test -count=1 -run 'TestCrash(ExactlyOnce|WatchersExactlyOnce|SubscribersExactlyOnce)' -v -timeout 30m ./e2e

# The takeover of a killed or paused owner whose embedded NATS server led
# the actors' stream (bounded by JetStream's election): three processes
# per case, so not part of make test, which covers the other cases.
# Also: the end-to-end cluster tests of real processes at full size (the
# bank under kills, a paused owner under load, a node joining under load,
# a node leaving under load, reminders across a kill); make test runs the
# short ones.
clustertest:
	WACTOR_CLUSTERTEST=full $(GO) test -count=1 -run 'TestLifecycleTakeover|TestCluster(Bank|PausedOwnerUnderLoad|JoinUnderLoad|LeaveUnderLoad|RemindersSurviveKill)' -v -timeout 30m ./e2e

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 15m ./host/... ./scheduler/... ./storage/... ./metrics/...

check:
	@echo '== gofmt -l'; out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		echo "== go vet $$m"; (cd $$m && $(GO) vet ./...); \
		echo "== go mod tidy -diff $$m"; (cd $$m && $(GO) mod tidy -diff); \
	done
	@echo '== go vet for wasip1 (guest code)'; set -e; for m in guest-sdk/go examples/wasm; do \
		(cd $$m && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...); \
	done

# Each fuzz target of each package runs for FUZZTIME; the go tool runs one
# target at a time (scripts/fuzz.sh says how a Go 1.26 coordinator race is told
# from a finding).
fuzz:
	@set -e; for m in $(MODULES); do \
		for dir in $$(cd $$m && $(GO) list -f '{{.Dir}}' ./...); do \
			for t in $$(cat $$dir/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p'); do \
				echo "== fuzz $$t in $${dir#$(CURDIR)/} for $(FUZZTIME)"; \
				GO=$(GO) scripts/fuzz.sh $$dir $$t $(FUZZTIME); \
			done; \
		done; \
	done

clean:
	rm -rf bin

FORCE:
