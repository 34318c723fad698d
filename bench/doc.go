// Package bench compares typedkit with go-kit/kit v0.13.0, plain net/http,
// plain grpc-go, connect-go and vtprotobuf on the same small service:
// {"a":1,"b":"x"} in, {"c":"x"} out, over endpoint chains, HTTP in process
// and over loopback, gRPC over bufconn and loopback, connect-go's Connect
// (JSON) and gRPC protocols with gzip on and off, breaker and limiter
// middleware, and a discovery client path; on lists of users (package
// wire) of 100 B, 10 KB and 1 MB over HTTP with JSON and over gRPC, and
// of 100 users marshalled and unmarshalled by kitgen's code, vtprotobuf's
// and protobuf-go's; on the JSON codecs kitgen generates, beside
// encoding/json, on examples/usersvc's CreateUser types (a copy of which
// is generated into jsonsvc), alone and in the generated HTTP route; and
// on server streams over gRPC and HTTP. It is a module of its own so that
// go-kit, connect-go and vtprotobuf never enter typedkit's dependencies.
//
// Benchmarks are named Benchmark<Group>/<case>/<implementation>;
// go run ./cmd/report runs them and writes BENCHMARKS.md with each
// implementation's figures and typedkit's ratio to each peer.
package bench
