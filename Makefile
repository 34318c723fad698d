# The Consul agent the integration tests run, built once per machine from the
# pinned tool module and cached outside the repository.
CONSUL_VERSION := v1.20.6
CACHE_DIR      ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/typedkit
CONSUL_BIN     := $(CACHE_DIR)/consul-$(CONSUL_VERSION)

export GOTOOLCHAIN := local
export TYPEDKIT_CONSUL := $(CONSUL_BIN)

.PHONY: test consul lint generate check-generate fuzz bench-smoke bench load run demo protoc

## test: build the Consul agent if it is not cached, then run every test with the race detector.
test: consul
	go test -race -timeout 15m ./...
	go -C internal/openapitest test -race ./...

## consul: build the pinned Consul agent into the cache, once per machine (the
## file name carries the version, so a new pin builds a new agent).
consul:
	@test -x $(CONSUL_BIN) || { \
		mkdir -p $(CACHE_DIR) && \
		echo "building the Consul agent $(CONSUL_VERSION) (once per machine; a few minutes)" && \
		go -C internal/tools/consul build -o $(CONSUL_BIN).tmp github.com/hashicorp/consul && \
		mv $(CONSUL_BIN).tmp $(CONSUL_BIN); }

## lint: gofmt, go vet and staticcheck, as CI runs them.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go -C internal/openapitest vet ./...
	go -C bench vet ./...
	go tool -modfile=internal/tools/go.mod staticcheck ./...

## run: serve the example user service on 127.0.0.1:8080 (HTTP) and :8081 (gRPC).
run:
	go run ./examples/usersvc/cmd/usersvc

## demo: run the core demo program.
demo:
	go run ./examples/quickstart

## protoc: install protoc from Debian's packages if it is missing (go generate needs it).
protoc:
	@command -v protoc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null; }

## generate: regenerate every generated file (kitgen output, protoc output).
generate: protoc
	go generate ./...

## check-generate: fail if go generate changes a committed file.
check-generate: generate
	@git diff --exit-code --stat || { echo "go generate changed committed files: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all | grep -v '^ M')" || { git status --short; echo "go generate made new files"; exit 1; }

FUZZTIME ?= 10s
## fuzz: run every fuzz target for FUZZTIME.
fuzz:
	for f in FuzzDecodeJSONRequest FuzzDecodeXMLRequest FuzzDecodeJSONOrXMLRequest FuzzDecodeFormRequest \
		FuzzDecodeMultipartRequest FuzzRawCodecDecodeRequest FuzzNegotiateContentType; do \
		go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./httpx || exit 1; done
	go test -run '^$$' -fuzz '^FuzzParseHTTPAnnotation$$' -fuzztime $(FUZZTIME) ./codegen
	go test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./internal/interop

## bench-smoke: run every benchmark once, as CI does.
bench-smoke:
	go test -run '^$$' -bench . -benchtime 1x ./...
	go -C bench test -run '^$$' -bench . -benchtime 1x ./...

## bench: run the side-by-side benchmarks and write BENCHMARKS.md.
bench:
	cd bench && go run ./cmd/report

## load: a bounded loopback load on the example service, typedkit vs net/http.
load:
	cd bench && go run ./cmd/load
