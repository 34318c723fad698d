package genrt

import (
	"strconv"

	"github.com/typedkit/kit"
)

// ParseBool parses a path or query parameter as a bool. Its error is an
// InvalidArgument *kit.Error with a violation naming the parameter. The
// Parse functions serve generated HTTP decoders.
func ParseBool(name, value string) (bool, error) {
	v, err := strconv.ParseBool(value)
	if err != nil {
		return false, paramError(name, value, "a boolean", err)
	}
	return v, nil
}

// ParseInt parses a path or query parameter as a signed integer of bitSize
// bits.
func ParseInt(name, value string, bitSize int) (int64, error) {
	v, err := strconv.ParseInt(value, 10, bitSize)
	if err != nil {
		return 0, paramError(name, value, "an integer of "+strconv.Itoa(bitSize)+" bits", err)
	}
	return v, nil
}

// ParseUint parses a path or query parameter as an unsigned integer of
// bitSize bits.
func ParseUint(name, value string, bitSize int) (uint64, error) {
	v, err := strconv.ParseUint(value, 10, bitSize)
	if err != nil {
		return 0, paramError(name, value, "an unsigned integer of "+strconv.Itoa(bitSize)+" bits", err)
	}
	return v, nil
}

// ParseFloat parses a path or query parameter as a floating-point number of
// bitSize bits.
func ParseFloat(name, value string, bitSize int) (float64, error) {
	v, err := strconv.ParseFloat(value, bitSize)
	if err != nil {
		return 0, paramError(name, value, "a number", err)
	}
	return v, nil
}

func paramError(name, value, want string, cause error) error {
	if len(value) > 64 {
		value = value[:64] + "…"
	}
	desc := strconv.Quote(value) + " is not " + want
	return kit.WrapError(kit.InvalidArgument, cause, "invalid parameter "+name+": "+desc).
		WithViolations(kit.FieldViolation{Field: name, Description: desc})
}
