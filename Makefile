# The Consul agent and the etcd server the integration tests run, each built
# once per machine from its pinned tool module and cached outside the
# repository.
CONSUL_VERSION := v1.20.6
ETCD_VERSION   := v3.7.3
CACHE_DIR      ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/typedkit
CONSUL_BIN     := $(CACHE_DIR)/consul-$(CONSUL_VERSION)
ETCD_BIN       := $(CACHE_DIR)/etcd-$(ETCD_VERSION)

export GOTOOLCHAIN := local
export TYPEDKIT_CONSUL := $(CONSUL_BIN)
export TYPEDKIT_ETCD := $(ETCD_BIN)

# Every Go module of the repository, for deps. The library is the root
# module and the nested modules of the backends and transports with
# dependencies of their own (discovery/consul, discovery/etcd, mcpx, the
# example service with its command); go.work joins them with
# the conformance suite for development. bench, internal/openapitest and the
# tool modules stay out of go.work, so that their requirements never raise
# the versions the library builds with: their commands run with GOWORK=off.
MODULES := . discovery/consul discovery/etcd mcpx examples/usersvc bench internal/openapitest internal/conformance internal/tools internal/tools/consul internal/tools/etcd

# The modules make build builds and vets, each on its own go.mod
# (GOWORK=off), as a user of it builds it.
BUILD_MODULES := . discovery/consul discovery/etcd mcpx examples/usersvc bench internal/openapitest internal/conformance

# The library's modules, which staticcheck checks, and their packages as
# patterns from the root (./... stops where a nested module begins).
KIT_MODULES := . discovery/consul discovery/etcd mcpx examples/usersvc
KIT_PKGS    := ./... ./discovery/consul/... ./discovery/etcd/... ./mcpx/... ./examples/usersvc/...

# staticcheck, pinned in internal/tools (go refuses -modfile in workspace
# mode); run it in the directory of the module to check.
STATICCHECK := GOWORK=off go tool -modfile=$(CURDIR)/internal/tools/go.mod staticcheck

.PHONY: deps build test consul etcd chromium conformance-deps lint staticcheck generate check-generate fuzz bench-smoke bench load run demo protoc

## deps: fetch and build ahead of time everything the build and the tests
## need, so that make test needs no network afterwards: the Go modules of
## every module, the pinned tools (staticcheck, protoc-gen-go,
## protoc-gen-go-grpc), the Consul agent, the etcd server, protoc, curl and openssl (from Debian, when
## missing) and the conformance suite's Node packages. Each step is cached;
## a second run does nothing.
deps: consul etcd protoc conformance-deps chromium
	@# Each module's own downloads hold every module the workspace builds
	@# with; go mod download in workspace mode would also fetch modules no
	@# build needs and list them in a go.work.sum.
	@for m in $(MODULES); do GOWORK=off go -C $$m mod download || exit 1; done
	@command -v curl >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl openssl >/dev/null; }
	@GOWORK=off go build -modfile=internal/tools/go.mod -o /dev/null honnef.co/go/tools/cmd/staticcheck
	@GOWORK=off go build -modfile=internal/tools/go.mod -o /dev/null google.golang.org/protobuf/cmd/protoc-gen-go
	@GOWORK=off go build -modfile=internal/tools/go.mod -o /dev/null google.golang.org/grpc/cmd/protoc-gen-go-grpc
	@# The scaffold tests tidy new modules, which reads the tests of their
	@# dependencies too: scaffold one now so its modules are in the cache.
	@tmp=$$(mktemp -d) && \
		go run ./codegen/cmd/kitgen new -q -idl examples/usersvc/service.go -out $$tmp/svc -import example.com/usersvc \
			-protocols http,grpc,mcp -service UserService -replace $(CURDIR) && \
		(cd $$tmp/svc && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1); status=$$?; rm -rf $$tmp; exit $$status

## build: build and vet every package and command of every module, each
## module on its own go.mod (GOWORK=off), and write the commands a user
## runs, kitgen and the example service, to bin/.
build:
	@for m in $(BUILD_MODULES); do \
		echo "go build ./... && go vet ./... in $$m"; \
		GOWORK=off go -C $$m build -o /dev/null ./... && GOWORK=off go -C $$m vet ./... || exit 1; done
	@mkdir -p bin
	go build -o bin/kitgen ./codegen/cmd/kitgen
	go build -o bin/usersvc ./examples/usersvc/cmd/usersvc

## test: build the Consul agent and the etcd server if they are not
## cached, install protoc and the conformance suite's Node packages if they
## are missing, then run every test with the race detector: those of every
## module in go.work (the library's modules and the conformance suite), then
## the OpenAPI validator's on its own.
test: consul etcd protoc conformance-deps chromium
	go test -race -timeout 15m github.com/typedkit/kit/...
	GOWORK=off go -C internal/openapitest test -race ./...

## conformance-deps: install the conformance suite's Node packages
## (@grpc/grpc-js, @grpc/proto-loader, Redocly CLI, Prism) with npm ci from
## the committed package-lock.json; again only when the lock file changes.
conformance-deps:
	@test internal/conformance/node_modules/.package-lock.json -nt internal/conformance/package-lock.json || { \
		command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 20 or later"; exit 1; }; \
		echo "installing the conformance suite's Node packages (npm ci)"; \
		npm --prefix internal/conformance ci --no-audit --no-fund --loglevel=error; }

## chromium: install Debian's chromium if it is missing: the headless
## browser of the example's live-page test (driven by playwright-core from
## the conformance suite's Node packages).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

## consul: build the pinned Consul agent into the cache, once per machine (the
## file name carries the version, so a new pin builds a new agent).
consul:
	@test -x $(CONSUL_BIN) || { \
		mkdir -p $(CACHE_DIR) && \
		echo "building the Consul agent $(CONSUL_VERSION) (once per machine; a few minutes)" && \
		GOWORK=off go -C internal/tools/consul build -o $(CONSUL_BIN).tmp github.com/hashicorp/consul && \
		mv $(CONSUL_BIN).tmp $(CONSUL_BIN); }

## etcd: build the pinned etcd server into the cache, once per machine (the
## file name carries the version, so a new pin builds a new server).
etcd:
	@test -x $(ETCD_BIN) || { \
		mkdir -p $(CACHE_DIR) && \
		echo "building the etcd server $(ETCD_VERSION) (once per machine; about a minute)" && \
		GOWORK=off go -C internal/tools/etcd build -o $(ETCD_BIN).tmp go.etcd.io/etcd/server/v3 && \
		mv $(ETCD_BIN).tmp $(ETCD_BIN); }

## lint: gofmt, go vet of every module and staticcheck, as CI runs them.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	@for m in $(BUILD_MODULES); do echo "go vet ./... in $$m"; GOWORK=off go -C $$m vet ./... || exit 1; done
	@$(MAKE) --no-print-directory staticcheck

## staticcheck: staticcheck of every package of the library's modules.
staticcheck:
	@for m in $(KIT_MODULES); do echo "staticcheck ./... in $$m"; (cd $$m && $(STATICCHECK) ./...) || exit 1; done

## run: serve the example user service on 127.0.0.1:8080 (HTTP) and :8081 (gRPC) in -dev mode (writes open).
run:
	go run ./examples/usersvc/cmd/usersvc -dev

## demo: run the core demo program.
demo:
	go run ./examples/quickstart

## protoc: install protoc from Debian's packages if it is missing (go generate needs it).
protoc:
	@command -v protoc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null; }

## generate: regenerate every generated file (kitgen output, protoc output).
generate: protoc
	go generate ./...
	go -C examples/usersvc generate ./...
	go -C internal/conformance generate ./...
	GOWORK=off go -C bench generate ./...

## check-generate: fail if go generate changes a committed file.
check-generate: generate
	@git diff --exit-code --stat || { echo "go generate changed committed files: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all | grep -v '^ M')" || { git status --short; echo "go generate made new files"; exit 1; }

FUZZTIME ?= 10s
## fuzz: run every fuzz target for FUZZTIME.
fuzz:
	for f in FuzzDecodeJSONRequest FuzzDecodeXMLRequest FuzzDecodeJSONOrXMLRequest FuzzDecodeFormRequest \
		FuzzDecodeMultipartRequest FuzzRawCodecDecodeRequest FuzzNegotiateContentType \
		FuzzClientStreamBody FuzzServerStreamResults; do \
		go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./httpx || exit 1; done
	go test -run '^$$' -fuzz '^FuzzParseHTTPAnnotation$$' -fuzztime $(FUZZTIME) ./codegen
	go test -run '^$$' -fuzz '^FuzzOpenAPIOptions$$' -fuzztime $(FUZZTIME) ./codegen
	go test -run '^$$' -fuzz '^FuzzGenerate$$' -fuzztime $(FUZZTIME) ./codegen
	go test -run '^$$' -fuzz '^FuzzJSONCodecs$$' -fuzztime $(FUZZTIME) ./genrt/internal/jsondiff
	go test -run '^$$' -fuzz '^FuzzJSONDecoder$$' -fuzztime $(FUZZTIME) ./genrt
	go test -run '^$$' -fuzz '^FuzzUnmarshal$$' -fuzztime $(FUZZTIME) ./internal/interop
	go test -run '^$$' -fuzz '^FuzzToolArguments$$' -fuzztime $(FUZZTIME) ./mcpx

## bench-smoke: run every benchmark once, as CI does.
bench-smoke:
	go test -run '^$$' -bench . -benchtime 1x $(KIT_PKGS)
	GOWORK=off go -C bench test -run '^$$' -bench . -benchtime 1x ./...

## bench: run the side-by-side benchmarks and write BENCHMARKS.md.
bench:
	cd bench && GOWORK=off go run ./cmd/report

## load: a bounded loopback load on the example service, typedkit vs net/http.
load:
	cd bench && GOWORK=off go run ./cmd/load
