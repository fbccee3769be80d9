# Capastan: one binary, one Makefile. `make help` lists the targets.
GO        ?= go
BIN       ?= bin/capastan
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DATASETS  ?= ../shared/datasets
LDFLAGS   := -s -w -X main.version=$(VERSION)
# The default model's creation time is fixed so `make model` is byte-reproducible.
MODEL_EPOCH ?= 1795737600

.PHONY: help build run test lint unit deploy-test schemathesis integration bench bench-http model model-check quality clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/capastan
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/capastan

run: build ## the embedded default: in-process Kafka broker + worker + built-in model (capastan dev)
	$(BIN) dev

test: lint unit deploy-test schemathesis integration ## everything CI runs: lint, unit/property/fuzz-seed tests, deployment checks, the API contract, integration tests on a real Kafka

lint: ## gofmt, go vet and staticcheck (pinned in go.mod as a tool)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	cd deploy && $(GO) vet ./...
	$(GO) build -o bin/staticcheck honnef.co/go/tools/cmd/staticcheck && cd deploy && ../bin/staticcheck ./...

unit: ## go test with the race detector
	$(GO) test -race -count=1 ./...

deploy-test: ## Dockerfile, compose, Kubernetes manifests, alert rules (promtool), dashboard, and a real Prometheus scraping capastan dev (deploy/ is its own Go module)
	cd deploy && $(GO) test -count=1 ./...

schemathesis: build ## property-based test of the HTTP API against schemas/openapi.yaml (Schemathesis from PyPI)
	CAPASTAN_BIN=$(BIN) scripts/schemathesis

integration: ## integration tests against a real Kafka broker started by scripts/kafka (needs Java 17+ and Maven)
	scripts/integration

bench: ## classifier benchmarks (needs $(DATASETS)); writes bench/results/classifier.txt
	mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./classifier/ | tee bench/results/classifier.txt

bench-http: ## HTTP load test: capastan vs a Flask peer and a bare Go handler under wrk; writes bench/results/http.{md,txt}
	bash bench/http.sh

model: build ## rebuild models/default.cpst from $(DATASETS)
	SOURCE_DATE_EPOCH=$(MODEL_EPOCH) $(BIN) train -quiet $$(sed 's|@DATASETS@|$(DATASETS)|g' models/default.args) -out models/default.cpst

model-check: build ## rebuild the default model and check it is byte-identical to the committed one
	SOURCE_DATE_EPOCH=$(MODEL_EPOCH) $(BIN) train -quiet $$(sed 's|@DATASETS@|$(DATASETS)|g' models/default.args) -out /tmp/capastan-default.cpst
	cmp /tmp/capastan-default.cpst models/default.cpst && echo "models/default.cpst reproduced byte for byte"

quality: ## evaluate on every staged corpus; writes bench/results/quality.{json,md}
	$(GO) run ./bench/quality -datasets $(DATASETS) -out bench/results/quality

clean:
	rm -rf bin
