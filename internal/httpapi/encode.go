package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/dozen-go/dozen/internal/kind"
)

// encode writes v as JSON with the given status. v is marshalled before
// anything is written, so that a value that cannot be encoded is an error
// (a 500 problem through handle), not a success with an empty body.
func encode(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status is sent; a failed write means the client left.
	_, _ = w.Write(append(body, '\n'))
	return nil
}

// decode reads the request's JSON body into a T strictly (see readJSON
// and decodeJSON) and returns it with the body as read, which an
// idempotent request hashes. It is the one way handlers read a body.
func decode[T any](r *http.Request) (T, []byte, error) {
	var v T
	raw, err := readJSON(r)
	if err != nil {
		return v, nil, err
	}
	v, err = decodeJSON[T](raw)
	return v, raw, err
}

// readJSON checks that the request declares a JSON body, not encoded, and
// reads it, within the size limit the route set with http.MaxBytesReader.
func readJSON(r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, kind.Errorf(kind.Unsupported, "Content-Type must be application/json")
	}
	if !identityEncoded(r.Header) {
		return nil, kind.Errorf(kind.Unsupported, "Content-Encoding must be identity: request bodies are not decompressed")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	return raw, nil
}

// identityEncoded reports whether every Content-Encoding the request
// names is identity: a body in any other coding would be read as JSON
// that it is not (RFC 9110 §8.4).
func identityEncoded(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				return false
			}
		}
	}
	return true
}

// decodeJSON decodes raw into a T strictly, in one pass: raw must be one
// JSON object, whose member names match T's fields exactly (letter case
// included), none unknown and none given twice, with nothing after it.
// Its errors are kind.Invalid errors that name what is wrong.
//
// encoding/json would match names without regard to case, let the last
// of two equal names win, and name an unknown field only in its error
// text; the JSON v2 decoder (github.com/go-json-experiment/json) refuses
// the first two and reports the third in a typed error.
func decodeJSON[T any](raw []byte) (T, error) {
	var v T
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '{' {
		return v, errNotObject
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	if err := jsonv2.UnmarshalDecode(dec, &v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return v, bodyError(err)
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return v, kind.Errorf(kind.Invalid, "request body must hold one JSON object and nothing after it")
	}
	return v, nil
}

var errNotObject = kind.New(kind.Invalid, "request body must be a JSON object")

// bodyError turns a JSON decoding error into a client error naming the
// problem, without echoing the body.
func bodyError(err error) error {
	var (
		syntax   *jsontext.SyntacticError
		semantic *jsonv2.SemanticError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return kind.Errorf(kind.TooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return kind.Errorf(kind.Invalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return kind.Errorf(kind.Invalid, "request body is truncated JSON")
	case errors.As(err, &syntax) && errors.Is(syntax.Err, jsontext.ErrDuplicateName):
		return kind.Errorf(kind.Invalid, "field %q is given more than once", syntax.JSONPointer.LastToken())
	case errors.As(err, &syntax):
		return kind.Errorf(kind.Invalid, "request body is not valid JSON (at byte %d)", syntax.ByteOffset)
	case errors.As(err, &semantic) && errors.Is(semantic.Err, jsonv2.ErrUnknownName):
		return kind.Errorf(kind.Invalid, "unknown field %q", semantic.JSONPointer.LastToken())
	case errors.As(err, &semantic) && semantic.GoType != nil && semantic.JSONPointer != "":
		return kind.Errorf(kind.Invalid, "field %q must be a JSON %s", semantic.JSONPointer.LastToken(), jsonKind(semantic.GoType.Kind().String()))
	case errors.As(err, &semantic) && semantic.JSONPointer == "":
		return errNotObject
	}
	return kind.Errorf(kind.Invalid, "request body could not be read as JSON")
}

// jsonKind names a Go kind as a JSON type.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}
