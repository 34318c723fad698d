package genrt

// SupportPackageIsVersion1 is referenced by the code kitgen generates, as a
// compile-time check that the runtime it is built with supports that code:
// a runtime that changes what generated code relies on drops the constant
// and defines the next, so code generated for another contract fails to
// compile on the line that names it, whose comment says to regenerate.
const SupportPackageIsVersion1 = true
