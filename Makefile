# Karst — build, test and run. Every target installs what a fresh Debian 12 machine lacks.
#   make run    build, then run karstd in the foreground on the built-in Guizhou topology
#   make sim    release build, then replay the sample trace through the scheduling core (+ HTML report)
#   make test   build, then run every test
#   make bench  release build, then the core benchmark
#   make fuzz   the fuzzing campaign: each in-process target for FUZZ_SECONDS, then 1,000,000
#               frames at the release daemon's socket (FUZZ_FRAMES)
#   make karstctl-order  rewrite the list of functions karstctl's release link places together

SHELL        := /bin/bash
SWIFT        ?= swift
APT_PACKAGES := pkg-config libsystemd-dev libsqlite3-dev python3 python3-pip util-linux systemd \
                systemd-container debootstrap zstd slurm-wlm munge openssl chromium tmux postgresql-15
SOCKET       ?= .karst/run/karstd.sock
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# `make test` prints the seconds since make started before each of its stages: where its time goes.
MAKE_START   := $(shell date +%s)
stage         = @echo "== $$(( $$(date +%s) - $(MAKE_START) )) s: $(1)"

.PHONY: all deps build test run sim bench fuzz fuzz-build generate install man clean karstctl-order

# The in-process fuzz targets (Sources/KarstFuzz), built with libFuzzer and the address sanitizer
# into their own build folder. lld links them (gold fails on a program with its own main that
# calls libFuzzer's driver); LeakSanitizer is off because the Swift runtime's caches look like
# leaks at exit.
FUZZ_TARGETS  := frames json calls pipeline
FUZZ_SECONDS  ?= 120
FUZZ_RUNS     ?= 20000
FUZZ_RUNS_PIPELINE ?= 2000
FUZZ_FRAMES   ?= 1000000
FUZZ_BIN      := .build-fuzz/release/karst-fuzz
FUZZ_ENV      := ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no

PREFIX  ?= /usr
DESTDIR ?=

all: build

# Installs the Debian packages the build and tests need, skipping what is already there.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "swift not found: install the Swift 6 toolchain"; exit 1; }
	@python3 -c 'import varlink' 2>/dev/null || { \
	  echo "installing the Python varlink client (interoperability tests)"; \
	  python3 -m pip install --quiet varlink 2>/dev/null || \
	  python3 -m pip install --quiet --break-system-packages varlink; }

build: deps
	$(SWIFT) build

test: build
	$(call stage,release karstd)
	$(SWIFT) build -c release --product karstd   # the crash tests kill -9 the release daemon
	$(call stage,unit tests)
	$(SWIFT) test --skip KarstServerTests
	$(call stage,server tests)
	# One at a time: these run live daemons and block on sockets; in parallel on two cores they
	# would starve the concurrency pool the daemons under test need.
	$(SWIFT) test --skip-build --no-parallel --filter KarstServerTests --skip 'CrashTests|TornWALTests'
	# Alone: the kill -9 harness loads both cores.
	$(call stage,crash tests)
	$(SWIFT) test --skip-build --filter 'CrashTests|TornWALTests'
	$(call stage,checks and install)
	./.build/debug/karstd --check-config Config/karstd.toml
	./.build/debug/karst-idlgen --check $(IDL_DIR) $(GENERATED_DIR)
	@scripts/check-units
	@scripts/check-imports
	# What `make install` puts in place: binaries, units, manual pages, completions.
	rm -rf .karst/install-check && $(MAKE) --no-print-directory install DESTDIR=$$PWD/.karst/install-check
	@scripts/check-install .karst/install-check
	# Fuzzing, short: each in-process target for FUZZ_RUNS inputs (the pipeline, ten times
	# slower per input, FUZZ_RUNS_PIPELINE) from the committed corpus,
	# then 50,000 frames at the release daemon's socket while a canary must be answered in 2 s.
	$(call stage,fuzz build)
	$(MAKE) --no-print-directory fuzz-build
	$(call stage,fuzz targets)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .karst/fuzz/$$t && { cp -n Tests/fuzz/corpus/$$t/* .karst/fuzz/$$t/ 2>/dev/null || true; } && \
	  runs=$(FUZZ_RUNS); [ $$t = pipeline ] && runs=$(FUZZ_RUNS_PIPELINE); \
	  echo "fuzz $$t: $$runs inputs" && \
	  $(FUZZ_ENV) $(FUZZ_BIN) $$t -runs=$$runs -seed=1 -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=.karst/fuzz/ .karst/fuzz/$$t 2>&1 | grep -E '^(stat::number_of_executed_units|==|INFO: Seed)|ERROR|Fatal|crash' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
	$(call stage,release karst-bench)
	$(SWIFT) build -c release --product karst-bench
	$(call stage,socket fuzz)
	./.build/release/karst-bench fuzz --frames 50000
	# A three-minute soak: mixed load, kill -9 every few seconds, nothing acknowledged lost; long
	# enough past the 87 s retention for its RSS check to see a steady state (one minute is not).
	$(call stage,soak)
	./.build/release/karst-bench soak --minutes 3
	$(call stage,e2e-nspawn)
	@scripts/e2e-nspawn
	$(call stage,done)

# The wire types are generated from the IDL and committed; `make test` fails while they differ.
IDL_DIR := Sources/KarstProtocol/Interfaces
GENERATED_DIR := Sources/KarstProtocol/Generated
generate: deps
	$(SWIFT) build --product karst-idlgen
	./.build/debug/karst-idlgen $(IDL_DIR) $(GENERATED_DIR)

run: build
	@mkdir -p $(dir $(SOCKET))
	@echo "karstd: built-in Guizhou hub on $(SOCKET), state in .karst/state. In another terminal:"
	@echo "  export KARST_SOCKET=$$PWD/$(SOCKET)"
	@echo "  ./.build/debug/karstctl topology"
	@echo "  ./.build/debug/karstctl load-trace Config/traces/sample-day.csv   # a day's jobs, to look at"
	@echo "Stop with Ctrl-C."
	./.build/debug/karstd --socket $(SOCKET) --state-dir .karst/state $(KARSTD_FLAGS)

sim: deps
	$(SWIFT) build -c release --product karst-sim
	@mkdir -p .karst
	./.build/release/karst-sim run Config/traces/sample-day.csv --report .karst/sim-report.html

bench: deps
	$(SWIFT) build -c release --product karst-bench
	$(SWIFT) build -c release --product karstd
	./.build/release/karst-bench core
	./.build/release/karst-bench socket

fuzz-build: deps
	$(SWIFT) build -c release --product karst-fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DKARST_FUZZ -Xswiftc -use-ld=lld

# The campaign: FUZZ_SECONDS per in-process target (new inputs kept in .karst/fuzz/TARGET; a
# crash is written to .karst/fuzz/crash-*; commit it under Tests/fuzz/regressions/TARGET once it
# is fixed), then FUZZ_FRAMES frames at the release daemon over many connections.
fuzz: fuzz-build
	$(SWIFT) build -c release --product karstd
	$(SWIFT) build -c release --product karst-bench
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .karst/fuzz/$$t && { cp -n Tests/fuzz/corpus/$$t/* .karst/fuzz/$$t/ 2>/dev/null || true; } && \
	  echo "fuzz $$t: $(FUZZ_SECONDS) s" && \
	  $(FUZZ_ENV) $(FUZZ_BIN) $$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=.karst/fuzz/ .karst/fuzz/$$t 2>&1 | grep -E '^(stat::|==)|ERROR|Fatal|crash|DONE' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
	./.build/release/karst-bench fuzz --frames $(FUZZ_FRAMES)

# Sources/karstctl/karstctl.order: the functions karstctl's calls run, as callgrind counts them,
# which the release link places side by side (Package.swift, docs/BENCHMARKS.md). Run it after
# changing what submit or list run, and commit the result. valgrind is needed here only.
karstctl-order: deps
	@dpkg -s valgrind >/dev/null 2>&1 || { echo "installing: valgrind"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends valgrind; }
	scripts/karstctl-order

# Manual pages of every command and subcommand, generated from the argument definitions by
# swift-argument-parser's GenerateManual plugin (release build) into $(MAN_DIR)/TOOL/.
MAN_DIR   := .build/plugins/GenerateManual/outputs
MAN_TOOLS := karstd karstctl karst-agent karst-sim
man: deps
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --configuration release --multi-page \
	  --date $$(date -u +%F) --authors 'The Karst developers'

# Installs release binaries, units, sysusers/tmpfiles entries, the message catalog, the default
# configuration, manual pages and shell completions (bash, zsh, fish) where a distribution
# package would put them.
install: deps man
	$(SWIFT) build -c release --product karstd
	$(SWIFT) build -c release --product karstctl
	$(SWIFT) build -c release --product karst-agent
	$(SWIFT) build -c release --product karst-sim
	install -D -m 0755 .build/release/karst-sim $(DESTDIR)$(PREFIX)/bin/karst-sim
	@for t in $(MAN_TOOLS); do \
	  for p in $(MAN_DIR)/$$t/*.1; do install -D -m 0644 $$p $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$p); done; \
	  b=.build/release/$$t; \
	  mkdir -p $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d && \
	  $$b --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t && \
	  $$b --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_$$t && \
	  $$b --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish || exit 1; \
	done
	install -D -m 0755 .build/release/karstd $(DESTDIR)$(PREFIX)/bin/karstd
	install -D -m 0755 .build/release/karst-agent $(DESTDIR)$(PREFIX)/bin/karst-agent
	install -D -m 0644 Deploy/karst-agent@.service $(DESTDIR)$(PREFIX)/lib/systemd/system/karst-agent@.service
	install -D -m 0755 .build/release/karstctl $(DESTDIR)$(PREFIX)/bin/karstctl
	install -D -m 0644 Deploy/karstd.service $(DESTDIR)$(PREFIX)/lib/systemd/system/karstd.service
	install -D -m 0644 Deploy/karstd.socket $(DESTDIR)$(PREFIX)/lib/systemd/system/karstd.socket
	install -D -m 0644 Deploy/karst.sysusers.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/karst.conf
	install -D -m 0644 Deploy/karst.tmpfiles.conf $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/karst.conf
	install -D -m 0644 Deploy/karstd.catalog $(DESTDIR)$(PREFIX)/lib/systemd/catalog/karstd.catalog
	install -D -m 0644 Config/karstd.toml $(DESTDIR)/etc/karst/karstd.toml

clean:
	rm -rf .build .build-fuzz .karst
