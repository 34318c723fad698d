// Package jsonx decodes JSON the way every transport of typedkit does, with
// errors that say what was wrong and where.
package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/typedkit/kit"
)

// Unmarshal decodes data into v; strict refuses fields v does not have and
// data after the value. Its error is an InvalidArgument *kit.Error whose
// message names the byte or the field at fault, except that an error keep
// reports true for (the coded error of a value's own UnmarshalJSON method,
// say) is returned as it is.
func Unmarshal(data []byte, v any, strict bool, keep func(error) bool) error {
	var err error
	if strict {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err = dec.Decode(v); err == nil && dec.More() {
			err = errors.New("unexpected data after the JSON value")
		}
	} else {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		return Error(err, keep)
	}
	return nil
}

// Error turns an encoding/json error into an InvalidArgument error, or
// returns it as it is when keep reports true for it.
func Error(err error, keep func(error) bool) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case keep != nil && keep(err):
		return err
	case errors.As(err, &syn):
		return kit.WrapError(kit.InvalidArgument, err,
			fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: ")))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		desc := fmt.Sprintf("cannot use JSON %s as %s", typ.Value, typ.Type)
		return kit.InvalidArgumentError(fmt.Sprintf("invalid JSON value for %s: %s", field, desc),
			kit.FieldViolation{Field: field, Description: desc})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return kit.WrapError(kit.InvalidArgument, err, "malformed JSON: unexpected end of input")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return kit.WrapError(kit.InvalidArgument, err, "invalid JSON: "+msg)
}
