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
)

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, log *slog.Logger, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.LogAttrs(r.Context(), slog.LevelWarn, "write response", slog.String("error", err.Error()))
	}
}

// decode reads a JSON request body into a T strictly: the media type must
// be JSON, the body must be one JSON object within the route's size limit,
// with no unknown fields and nothing after it. Its errors are clientErrors
// that name what is wrong.
func decode[T any](r *http.Request) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			return v, errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		}
	} else {
		return v, errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()

	// Decode into a raw message first so that null and non-objects are
	// told apart from an empty object.
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return v, bodyError(err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return v, errorf(http.StatusBadRequest, "request body must be a JSON object")
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
