// Package openapitest checks the OpenAPI documents kitgen writes with an
// OpenAPI 3.1 validator. It is a module of its own so the validator's
// dependencies stay out of the library's go.mod.
package openapitest
