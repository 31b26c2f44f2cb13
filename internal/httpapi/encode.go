package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// encode writes v as JSON with the given status. v is marshalled before
// anything is written, so that a value that cannot be encoded is a 500
// problem, not a success with an empty body.
func encode(w http.ResponseWriter, log *slog.Logger, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		respondError(w, r, log, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status is sent; a failed write means the client left.
	_, _ = w.Write(append(body, '\n'))
}

// decode reads a JSON request body into a T strictly; see readJSON and
// decodeJSON.
func decode[T any](r *http.Request) (T, error) {
	raw, err := readJSON(r)
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeJSON[T](raw)
}

// readJSON checks that the request declares a JSON body, not encoded, and
// reads it, within the size limit the route set with http.MaxBytesReader.
func readJSON(r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	if !identityEncoded(r.Header) {
		return nil, errorf(http.StatusUnsupportedMediaType, "Content-Encoding must be identity: request bodies are not decompressed")
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
// nothing after it. Its errors are clientErrors that name what is wrong.
func decodeJSON[T any](raw []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return v, bodyError(err)
	}
	if tok != json.Delim('{') {
		return v, errorf(http.StatusBadRequest, "request body must be a JSON object")
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
			return v, errorf(http.StatusBadRequest, "field %q is given more than once", k)
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
		return v, errorf(http.StatusBadRequest, "request body must hold one JSON object and nothing after it")
	}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&v); err != nil {
		return v, bodyError(err)
	}
	return v, nil
}

// bodyError turns a JSON decoding error into a clientError naming the
// problem, without echoing the body.
func bodyError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "request body is truncated JSON")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, "request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return errorf(http.StatusBadRequest, "field %q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return errorf(http.StatusBadRequest, "request body must be a JSON object")
	}
	// encoding/json reports an unknown field only as text.
	if field, ok := unknownField(err.Error()); ok {
		return errorf(http.StatusBadRequest, "unknown field %s", field)
	}
	return errorf(http.StatusBadRequest, "request body could not be read as JSON")
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
