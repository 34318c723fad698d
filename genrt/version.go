package genrt

// SupportPackageIsVersion2 is referenced by the code kitgen generates, as a
// compile-time check that the runtime it is built with supports that code:
// a runtime that changes what generated code relies on defines the next
// constant, so code generated for a newer contract fails to compile on the
// line that names it, whose comment says to regenerate. Version 2 adds the
// streams (grpcx's stream handlers and clients), the pooled marshalling of
// large messages and the shared strings of unmarshalling.
const SupportPackageIsVersion2 = true

// SupportPackageIsVersion1 is the contract of code generated before the
// streams; this runtime still builds such code.
const SupportPackageIsVersion1 = true
