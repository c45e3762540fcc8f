# pvenroll — the two commands a new user runs are `make demo` and `make test`.
GO      ?= go
BIN     ?= bin/pvenroll
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/pvenroll/pvenroll/internal/cli.Version=$(VERSION)
DEMO    ?= demo-report
RATE    ?= 50
FUZZTIME ?= 2m
# How long the fuzzer may spend shrinking each input it keeps: Go's default
# (60s) let one new input hold a short CI run at 0 execs/s for its rest.
FUZZMINTIME ?= 1s

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build demo test vet staticcheck flaky fuzz fuzz-ci bench image release screenshots clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The demo: a dry run, then a real run, of the sample export against the
# built-in sandbox API; prints the reconciliation. The sample holds one
# broken record on purpose, so the real run ends with exit code 1.
# DEMO_FLAGS go to both runs (the README test shortens the broken record's
# retries with DEMO_FLAGS=--backoff=1ms).
DEMO_FLAGS ?=
demo: build
	@rm -rf $(DEMO)-dry-run $(DEMO)
	@echo "== dry run: reads only =="
	$(BIN) enroll --sandbox --dry-run --rate $(RATE) --create-missing --system-id RIVERSIDE_ABC \
		--consent-column "Terms Accepted At" $(DEMO_FLAGS) --out $(DEMO)-dry-run samples/members.csv
	@echo
	@echo "== real run against the sandbox =="
	@$(BIN) enroll --sandbox --rate $(RATE) --create-missing --system-id RIVERSIDE_ABC \
		--consent-column "Terms Accepted At" $(DEMO_FLAGS) --out $(DEMO) samples/members.csv; \
	  code=$$?; echo "exit code $$code (1: some rows failed — the sample's broken record)"; \
	  test $$code -le 1
	@echo
	@cat $(DEMO)/summary.md
	@echo
	@echo "Open $(DEMO)/report.html in a browser; follow-up files are in $(DEMO)/followup/."

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt needed on the files above"; exit 1; }
	$(GO) vet ./...

test: vet staticcheck
	$(GO) test -race -count=1 ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

# Tests that were flaky on a loaded machine, run many times: CI keeps them
# honest.
flaky:
	$(GO) test -race -count=20 -run '^TestCreateIsNotBlindlyRetried$$' ./perkville
	$(GO) test -race -count=20 -run '^TestLogStateAndDrop$$' ./internal/sandbox

# CI runs each fuzz target briefly; `make fuzz FUZZTIME=10m` runs longer.
fuzz:
	$(GO) test ./export -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME)
	$(GO) test ./perkville -run '^$$' -fuzz '^FuzzParseErrorBody$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME)
	$(GO) test ./perkville -run '^$$' -fuzz '^FuzzScrubber$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME)

fuzz-ci:
	$(MAKE) fuzz FUZZTIME=15s

# The bench is a test binary (so `go install ./...` installs only pvenroll);
# BENCH_FLAGS go to it, e.g. make bench BENCH_FLAGS="-skip read,rss".
BENCH_FLAGS ?=
bench:
	PVENROLL_BENCH=1 $(GO) test ./internal/bench -count=1 -timeout 0 -v -args $(BENCH_FLAGS)

# Pictures of the demo's reports at 1280 and 400 px, to look at
# (headless Chromium; go test ./report checks the layout when it is there).
CHROMIUM ?= chromium
SHOTS    ?= screenshots
screenshots: demo
	mkdir -p $(SHOTS)
	for r in $(DEMO) $(DEMO)-dry-run; do for w in 1280 400; do \
	  $(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=$$w,2400 \
	    --screenshot=$(SHOTS)/$$(basename $$r)-$$w.png file://$(CURDIR)/$$r/report.html 2>/dev/null || exit 1; \
	done; done
	@ls $(SHOTS)/*.png

# The container image (Dockerfile): IMAGE names it, tagged with the version
# and latest, e.g. make image IMAGE=registry.example.com/pvenroll. DOCKER
# is the builder: make image DOCKER=podman (or buildah) needs no daemon.
IMAGE  ?= pvenroll
DOCKER ?= docker
image:
	$(DOCKER) build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) -t $(IMAGE):latest .

# Release archives in $(DIST): pvenroll_VERSION_OS_ARCH.tar.gz (.zip for
# Windows) with the static binary, LICENSE and README.md, and SHA256SUMS.
# The version is stamped into each binary; check with `pvenroll version`.
DIST      ?= dist
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; name=pvenroll_$(VERSION)_$${os}_$${arch}; exe=; \
	  [ $$os = windows ] && exe=.exe; \
	  mkdir -p $(DIST)/$$name; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(DIST)/$$name/pvenroll$$exe .; \
	  cp LICENSE README.md $(DIST)/$$name/; \
	  if [ $$os = windows ]; then (cd $(DIST) && zip -qr $$name.zip $$name); \
	  else tar -C $(DIST) --owner=0 --group=0 --numeric-owner -czf $(DIST)/$$name.tar.gz $$name; fi; \
	  rm -rf $(DIST)/$$name; \
	done
	cd $(DIST) && sha256sum pvenroll_* > SHA256SUMS && cat SHA256SUMS

clean:
	rm -rf bin dist $(SHOTS) $(DEMO) $(DEMO)-dry-run
