// Package bench compares typedkit with go-kit/kit v0.13.0, plain net/http
// and plain grpc-go on the same small service: {"a":1,"b":"x"} in,
// {"c":"x"} out, over endpoint chains, HTTP in process and over loopback,
// gRPC over bufconn and loopback, breaker and limiter middleware, and a
// discovery client path; and the JSON codecs kitgen generates, beside
// encoding/json, on examples/usersvc's CreateUser types (a copy of which
// is generated into jsonsvc), alone and in the generated HTTP route. It is
// a module of its own so that go-kit never enters typedkit's dependencies.
//
// Benchmarks are named Benchmark<Group>/<case>/<implementation>;
// go run ./cmd/report runs them and writes BENCHMARKS.md with each
// implementation's figures and typedkit's ratio to each peer.
package bench
