# Shortcuts for the usual commands; `make` lists them. Each target's
# description is its ## comment. The module path comes from go list, so
# the file survives gonew.

MODULE  := $(shell go list -m)
NAME    := $(notdir $(MODULE))
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE   ?= $(NAME):$(VERSION)

.DEFAULT_GOAL := help
.PHONY: help run migrate test lint build docker tidy services

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-9s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

run: ## run the web process, with the settings in .env if there is one
	set -a; [ ! -f .env ] || . ./.env; set +a; go run ./cmd/server

migrate: ## apply pending migrations (admin migrate up), with the settings in .env
	set -a; [ ! -f .env ] || . ./.env; set +a; go run ./cmd/admin migrate up

test: ## what CI runs: gofmt, go vet and the race-detector tests
	bash .ci/run

lint: ## golangci-lint and the twelve-factor checklist, at pinned versions
	go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0 run
	go run github.com/dozen-go/dozen/twelvefactor@v0.1.0 .

build: ## build every command into bin/ with the image's flags
	CGO_ENABLED=0 go build -trimpath -tags grpcnotrace -ldflags="-s -w" -o bin/ ./cmd/...

docker: ## build the image (IMAGE=name:tag to choose its tag)
	docker build -t $(IMAGE) \
		--build-arg NAME=$(NAME) \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$$(git rev-parse HEAD) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) \
		--build-arg SOURCE=https://$(MODULE) \
		.

services: ## start Postgres and Redis in containers (compose.yaml)
	docker compose up -d --wait

tidy: ## go mod tidy
	go mod tidy

# example: the remove-example target, down to "end of example".
.PHONY: remove-example
remove-example: ## delete the example (a link shortener): its package, migrations, marked lines, settings, README sections
	rm -rf internal/links migrations/*/000001_* migrations/*/000002_* migrations/*/000014_* docs/evidence
	find cmd internal .ci -type f \( -name '*.go' -o -name '*.yaml' -o -name run \) -print0 | \
		xargs -0 perl -0pi -e 's{^[ \t]*(//|\#) example:.*?^[ \t]*(//|\#) end of example[^\n]*\n}{}gms; s{^[^\n]*(//|\#) example[ \t]*\n}{}gm'
	perl -0pi -e 's{^<!-- example -->\n.*?^<!-- end of example -->\n\n?}{}gms; s{^[^\n]+<!-- example -->[^\n]*\n}{}gm' README.md docs/*.md
	perl -0pi -e 's{\n\s*"(API_TOKENS|CREATE_RATE_LIMIT|RATE_LIMIT_WINDOW|LINK_CACHE_TTL|CLICK_FLUSH_INTERVAL|MAX_PAGE_SIZE)": \{.*?\}(,?)}{}gs; s{,(\s*\})}{$$1}g' app.json
	go run golang.org/x/tools/cmd/goimports@v0.52.0 -w cmd internal
	go test ./internal/config -update
	go mod tidy
	perl -0pi -e 's{\n\# example:.*?\# end of example\n}{\n}s' Makefile
# end of example
