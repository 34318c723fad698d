# The Consul agent the integration tests run, built once per machine from the
# pinned tool module and cached outside the repository.
CONSUL_VERSION := v1.20.6
CACHE_DIR      ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/typedkit
CONSUL_BIN     := $(CACHE_DIR)/consul-$(CONSUL_VERSION)

export GOTOOLCHAIN := local
export TYPEDKIT_CONSUL := $(CONSUL_BIN)

.PHONY: test consul lint generate bench demo

## test: build the Consul agent if it is not cached, then run every test with the race detector.
test: consul
	go test -race -timeout 15m ./...

## consul: build the pinned Consul agent into the cache (once per machine).
consul: $(CONSUL_BIN)

$(CONSUL_BIN): internal/tools/consul/go.mod internal/tools/consul/go.sum
	@mkdir -p $(CACHE_DIR)
	go -C internal/tools/consul build -o $(CONSUL_BIN).tmp github.com/hashicorp/consul
	mv $(CONSUL_BIN).tmp $(CONSUL_BIN)

## lint: gofmt, go vet and staticcheck, as CI runs them.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go tool -modfile=internal/tools/go.mod staticcheck ./...

## demo: run the demo program.
demo:
	go run ./examples/quickstart
