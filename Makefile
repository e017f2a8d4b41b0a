# gitvend: the two commands a newcomer runs are `make demo` and `make test`.
GO      ?= go
BIN     := bin
PKGS    := ./...
KUBEENV := tools/kubeenv/build.sh
RELEASE_TOOLS := tools/release/build.sh

.PHONY: all build test unit vet kube demo load load-growth bench fuzz clean chart release-tools release-check gogithub browser screenshot

all: build

## build: the gitvend binary in bin/, stamped with the commit and the release tag (git describe), if any
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/gitvend/gitvend/internal/version.version=$(VERSION) -X github.com/gitvend/gitvend/internal/version.commit=$(COMMIT)
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/gitvend ./cmd/gitvend
	$(GO) build -trimpath -o $(BIN)/gitvend-demo ./cmd/gitvend-demo

## kube: kube-apiserver, etcd and kubectl built from Go modules into bin/ (once; ~8 min the first time)
kube:
	@if [ -x $(KUBEENV) ]; then bash $(KUBEENV); fi

## test: every test (vet, Go and Rego unit tests, golden files, real apiserver where needed)
test: kube browser vet chart release-check gogithub
	$(GO) test -count=1 -timeout 30m $(PKGS)

## browser: Debian's Chromium for the status page's browser test (root installs it once; elsewhere the test skips and says why)
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "▶ installing Chromium for the browser test (apt-get install chromium)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; } || \
		echo "browser: apt-get could not install chromium; the browser test will skip"; \
	else echo "browser: $(CHROMIUM) is absent and this is not root with apt-get; the browser test will skip (install Chromium, or set GITVEND_CHROMIUM)"; fi

## screenshot: docs/status.png, the status page with the demo's state, taken by the browser test
screenshot: kube browser
	GITVEND_SCREENSHOT=$(CURDIR)/docs/status.png $(GO) test -count=1 -run 'TestBrowser' ./internal/status/

## chart: the Helm chart's tests (deploy/helm/chart-test, a Go module of its own)
chart:
	bash deploy/helm/chart-test/test.sh

## release-tools: goreleaser and actionlint built from tools/release into bin/ (once; minutes the first time)
release-tools:
	@bash $(RELEASE_TOOLS)

## release-check: the release configuration and the workflows, offline (goreleaser check, actionlint)
release-check: release-tools
	$(BIN)/goreleaser check
	$(BIN)/actionlint

## gogithub: the gitvend binary links one go-github, v60
gogithub:
	$(GO) build -trimpath -o $(BIN)/gitvend ./cmd/gitvend
	bash tools/release/one-gogithub.sh $(BIN)/gitvend

## unit: the tests without building the kube binaries first (those that need them skip)
unit: vet
	$(GO) test $(PKGS)

vet:
	$(GO) vet $(PKGS)

## demo: the whole story end to end on this machine (GitHub double, real apiserver, gitvend serve)
demo: kube build
	@echo "▶ make demo: request issue → PR with checks and plan → /provision set → merge → apply → drift issue → /provision adopt → destroy"
	$(BIN)/gitvend-demo -gitvend $(BIN)/gitvend -examples examples/desired-state

## load: gitvend serve under load: a synthetic repository of REQUESTS requests over ENVS environments, then request
## issues at RATE for DURATION, MERGES merges and DRIFT changes by hand; prints the service levels from /metrics
LOAD_FLAGS ?=
load: kube build
	$(GO) build -trimpath -o $(BIN)/gitvend-load ./cmd/gitvend-load
	REQUESTS='$(REQUESTS)' ENVS='$(ENVS)' RATE='$(RATE)' DURATION='$(DURATION)' DRAIN='$(DRAIN)' MERGES='$(MERGES)' DRIFT='$(DRIFT)' \
		GITVEND_KUBE_BIN=$${GITVEND_KUBE_BIN:-$(CURDIR)/$(BIN)} $(BIN)/gitvend-load -gitvend $(BIN)/gitvend $(LOAD_FLAGS)

## load-growth: the growth table of BENCHMARKS.md: repositories of 100, 1,000 and 10,000 requests at GROWTH_RATE,
## each with `gitvend check` and `render --verify` timed
GROWTH_RATE ?= 2/m
GROWTH_DURATION ?= 120s
load-growth: kube build
	$(GO) build -trimpath -o $(BIN)/gitvend-load ./cmd/gitvend-load
	for n in 100 1000 10000; do \
		REQUESTS=$$n ENVS=3 RATE='$(GROWTH_RATE)' DURATION='$(GROWTH_DURATION)' MERGES=1 DRIFT=1 DRAIN=20m \
		GITVEND_KUBE_BIN=$${GITVEND_KUBE_BIN:-$(CURDIR)/$(BIN)} $(BIN)/gitvend-load -gitvend $(BIN)/gitvend -cli $(LOAD_FLAGS) || exit 1; \
	done

## bench: the benchmarks recorded in BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./internal/... ./cmd/...

## fuzz: a short run of every fuzz target
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/request
	$(GO) test -run '^$$' -fuzz '^FuzzParseRepo$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzCompute$$' -fuzztime $(FUZZTIME) ./internal/cost
	$(GO) test -run '^$$' -fuzz '^FuzzRenderParameters$$' -fuzztime $(FUZZTIME) ./internal/blueprint
	$(GO) test -run '^$$' -fuzz '^FuzzParseCommands$$' -fuzztime $(FUZZTIME) ./internal/request
	$(GO) test -run '^$$' -fuzz '^FuzzFormSections$$' -fuzztime $(FUZZTIME) ./internal/request
	$(GO) test -run '^$$' -fuzz '^FuzzLoadServer$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./internal/field

clean:
	rm -rf $(BIN)/gitvend $(BIN)/gitvend-demo dist
