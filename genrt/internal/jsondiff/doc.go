// Package jsondiff holds the differential test of the JSON codecs kitgen
// generates against encoding/json (FuzzJSONCodecs), on the golden service
// codegen/testdata/src/jsonshapes, which holds every shape the codecs
// handle. It lives apart from package codegen so that the generator's
// tests, and their -update of the golden files, never depend on the golden
// code compiling.
package jsondiff
