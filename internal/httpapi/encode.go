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

// decodeJSON decodes raw into a T strictly: raw must be one JSON object,
// with no unknown fields, no field given twice (in any letter case), and
// nothing after it. Its errors are kind.Invalid errors that name what is wrong.
func decodeJSON[T any](raw []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return v, bodyError(err)
	}
	if tok != json.Delim('{') {
		return v, kind.Errorf(kind.Invalid, "request body must be a JSON object")
	}
	// encoding/json matches field names without regard to case and lets
	// the last of two equal keys win; refuse both ambiguities.
	// Past the opening brace, running out of input means truncation.
	truncated := func(err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return bodyError(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return v, truncated(err)
		}
		k := strings.ToLower(fmt.Sprint(key))
		if seen[k] {
			return v, kind.Errorf(kind.Invalid, "field %q is given more than once", k)
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return v, truncated(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return v, truncated(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return v, bodyError(err)
		}
		return v, kind.Errorf(kind.Invalid, "request body must hold one JSON object and nothing after it")
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&v); err != nil {
		return v, bodyError(err)
	}
	return v, nil
}

// bodyError turns a JSON decoding error into a client error naming the
// problem, without echoing the body.
func bodyError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return kind.Errorf(kind.TooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return kind.Errorf(kind.Invalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return kind.Errorf(kind.Invalid, "request body is truncated JSON")
	case errors.As(err, &syntax):
		return kind.Errorf(kind.Invalid, "request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return kind.Errorf(kind.Invalid, "field %q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return kind.Errorf(kind.Invalid, "request body must be a JSON object")
	}
	// encoding/json reports an unknown field only as text.
	if field, ok := unknownField(err.Error()); ok {
		return kind.Errorf(kind.Invalid, "unknown field %s", field)
	}
	return kind.Errorf(kind.Invalid, "request body could not be read as JSON")
}

func unknownField(msg string) (string, bool) {
	var field string
	if _, err := fmt.Sscanf(msg, "json: unknown field %s", &field); err != nil {
		return "", false
	}
	return field, true
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
