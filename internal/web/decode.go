package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/dozen-go/dozen/internal/kind"
)

// Decode reads the request's JSON body into a T strictly and returns it
// with the body as read, which an idempotent request hashes. The request
// must declare a JSON body, not encoded (a body in another coding would
// be read as JSON that it is not, RFC 9110 §8.4), within the size limit
// its route set with http.MaxBytesReader; the body is decoded as
// DecodeJSON does. Its errors are kind errors that name what is wrong. A
// building block: the one way a handler reads a body.
func Decode[T any](r *http.Request) (T, []byte, error) {
	var v T
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return v, nil, kind.Errorf(kind.Unsupported, "Content-Type must be application/json")
	}
	for _, codings := range r.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(codings, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return v, nil, kind.Errorf(kind.Unsupported, "Content-Encoding must be identity: request bodies are not decompressed")
			}
		}
	}
	raw, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return v, nil, BodyTooLarge(tooLarge.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's read deadline, which the route's deadline sets.
		return v, nil, kind.Wrap(kind.Timeout, "", err)
	case err != nil:
		return v, nil, kind.Wrap(kind.Invalid, "request body could not be read in full", err)
	}
	v, err = DecodeJSON[T](raw)
	return v, raw, err
}

// DecodeJSON decodes raw into a T strictly, in one pass: raw must be one
// JSON object, whose member names match T's fields exactly (letter case
// included), none unknown and none given twice, with nothing after it.
// Its errors are kind.Invalid errors that name what is wrong, without
// echoing raw. A building block: Decode uses it for a request's body, and
// a handler for JSON that reaches it another way.
//
// encoding/json would match names without regard to case, let the last
// of two equal names win, and name an unknown field only in its error
// text; the JSON v2 decoder (github.com/go-json-experiment/json) refuses
// the first two and reports the third in a typed error.
func DecodeJSON[T any](raw []byte) (T, error) {
	var v T
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '{' {
		return v, errNotObject
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	err := jsonv2.UnmarshalDecode(dec, &v, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
			return v, kind.Errorf(kind.Invalid, "request body must hold one JSON object and nothing after it")
		}
		return v, nil
	}
	var (
		syntax   *jsontext.SyntacticError
		semantic *jsonv2.SemanticError
	)
	switch {
	case errors.Is(err, io.EOF):
		return v, kind.Errorf(kind.Invalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return v, kind.Errorf(kind.Invalid, "request body is truncated JSON")
	case errors.As(err, &syntax) && errors.Is(syntax.Err, jsontext.ErrDuplicateName):
		return v, kind.Errorf(kind.Invalid, "field %q is given more than once", syntax.JSONPointer.LastToken())
	case errors.As(err, &syntax):
		return v, kind.Errorf(kind.Invalid, "request body is not valid JSON (at byte %d)", syntax.ByteOffset)
	case errors.As(err, &semantic) && errors.Is(semantic.Err, jsonv2.ErrUnknownName):
		return v, kind.Errorf(kind.Invalid, "unknown field %q", semantic.JSONPointer.LastToken())
	case errors.As(err, &semantic) && semantic.GoType != nil && semantic.JSONPointer != "":
		jsonType, ok := jsonTypes[semantic.GoType.Kind()]
		if !ok {
			jsonType = "number"
		}
		return v, kind.Errorf(kind.Invalid, "field %q must be a JSON %s", semantic.JSONPointer.LastToken(), jsonType)
	case errors.As(err, &semantic) && semantic.JSONPointer == "":
		return v, errNotObject
	}
	return v, kind.Errorf(kind.Invalid, "request body could not be read as JSON")
}

var errNotObject = kind.New(kind.Invalid, "request body must be a JSON object")

// jsonTypes names the JSON type of the Go kinds that are not numbers.
var jsonTypes = map[reflect.Kind]string{
	reflect.String: "string", reflect.Bool: "boolean",
	reflect.Slice: "array", reflect.Array: "array",
	reflect.Map: "object", reflect.Struct: "object",
}
