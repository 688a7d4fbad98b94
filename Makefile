# hookyard developer interface. `make help` lists the targets.
.DEFAULT_GOAL := help
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: help build test test-race lint fuzz bench ci

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build ./hookyard
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o hookyard ./cmd/hookyard

test: ## run the test suite (the README's command)
	$(GO) test ./...

test-race: ## run the tests with the race detector (crash test skipped)
	$(GO) test -race -short ./...

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

fuzz: ## fuzz every signature parser for 30s each
	@for t in $$($(GO) test -list '^Fuzz' ./internal/verify/ | grep '^Fuzz'); do \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 30s ./internal/verify/ || exit 1; done

bench: ## micro-benchmarks (verification, store)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

ci: ## what CI runs
	bash .ci/run
