# gitvend: the two commands a newcomer runs are `make demo` and `make test`.
GO      ?= go
BIN     := bin
PKGS    := ./...
KUBEENV := tools/kubeenv/build.sh

.PHONY: all build test unit vet kube demo bench fuzz clean

all: build

## build: the gitvend binary in bin/
build:
	$(GO) build -trimpath -o $(BIN)/gitvend ./cmd/gitvend

## kube: kube-apiserver, etcd and kubectl built from Go modules into bin/ (once; ~8 min the first time)
kube:
	@if [ -x $(KUBEENV) ]; then bash $(KUBEENV); fi

## test: every test (vet, Go and Rego unit tests, golden files, real apiserver where needed)
test: kube vet
	$(GO) test -count=1 -timeout 30m $(PKGS)

## unit: the tests without building the kube binaries first (those that need them skip)
unit: vet
	$(GO) test $(PKGS)

vet:
	$(GO) vet $(PKGS)

## demo: the whole story end to end on this machine
demo: build
	@echo "make demo plays the story request → pull request → merge → apply → drift."
	@echo "It arrives with the GitHub and reconcile work; today, try the offline CLI:"
	$(BIN)/gitvend render --verify --repo examples/desired-state
	$(BIN)/gitvend check examples/desired-state
	-$(BIN)/gitvend check cmd/gitvend/testdata/bad

## bench: the benchmarks recorded in BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... ./cmd/...

## fuzz: a short run of every fuzz target
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/request
	$(GO) test -run '^$$' -fuzz '^FuzzParseRepo$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzCompute$$' -fuzztime $(FUZZTIME) ./internal/cost
	$(GO) test -run '^$$' -fuzz '^FuzzRenderParameters$$' -fuzztime $(FUZZTIME) ./internal/blueprint

clean:
	rm -rf $(BIN)/gitvend
