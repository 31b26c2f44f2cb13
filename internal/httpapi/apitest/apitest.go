// Package apitest holds what the HTTP tests of httpapi and of a feature
// share: a migrated database of the test's own, a buffer of JSON log
// lines, problem+json and security-header checks, and the check that a
// server's OpenAPI document and its routes agree (httpapi's test checks its
// own routes, a feature's test the whole server with the feature mounted).
package apitest

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v3"
)

// Spec is the part of an OpenAPI document the checks read.
type Spec struct {
	OpenAPI    string                               `json:"openapi"`
	Paths      map[string]map[string]jsontext.Value `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID string         `json:"operationId"`
	Tags        []string       `json:"tags"`
	Responses   map[string]any `json:"responses"`
}

// Load decodes the document h serves at /openapi.yaml: YAML, which
// refuses a key given twice in one mapping, turned into JSON for the JSON
// v2 decoder, which refuses a field of the wrong type.
func Load(t testing.TB, h http.Handler) Spec {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	var doc any
	if err := yaml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	b, err := jsonv2.Marshal(doc)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var s Spec
	if err := jsonv2.Unmarshal(b, &s); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(s.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1", s.OpenAPI)
	}
	return s
}

// Routes fails when a route of h, a chi router, is missing from the
// document h serves, or the document describes a route h does not serve.
// With tags, only the operations carrying one of them are compared: a
// server without its features has only the routes of its own tags. Every
// operation needs an operationId, tags and responses, and HEAD is served
// wherever GET is (the document says so once).
func Routes(t testing.TB, h http.Handler, tags ...string) {
	t.Helper()
	s := Load(t, h)
	var inSpec []string
	for path, ops := range s.Paths {
		for method, node := range ops {
			if method == "parameters" {
				continue
			}
			var op operation
			if err := jsonv2.Unmarshal(node, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if len(op.Responses) == 0 || op.OperationID == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s has no operationId, tags or responses", method, path)
			}
			if len(tags) == 0 || slices.ContainsFunc(op.Tags, func(tag string) bool { return slices.Contains(tags, tag) }) {
				inSpec = append(inSpec, strings.ToUpper(method)+" "+path)
			}
		}
	}
	var routed, gets, heads []string
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		switch method {
		case http.MethodHead:
			heads = append(heads, route)
			return nil
		case http.MethodGet:
			gets = append(gets, route)
		}
		routed = append(routed, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(inSpec)
	slices.Sort(routed)
	if !slices.Equal(inSpec, routed) {
		t.Errorf("openapi.yaml describes %q, want the routes served: %q", inSpec, routed)
	}
	slices.Sort(gets)
	slices.Sort(heads)
	if !slices.Equal(heads, gets) {
		t.Errorf("HEAD routes = %q, want the GET routes %q", heads, gets)
	}
}

// Schemas fails when a schema of the document h serves and the Go type
// types gives for it have different JSON fields.
func Schemas(t testing.TB, h http.Handler, types map[string]any) {
	t.Helper()
	s := Load(t, h)
	for name, v := range types {
		var documented []string
		for k := range s.Components.Schemas[name].Properties {
			documented = append(documented, k)
		}
		slices.Sort(documented)
		if fields := jsonFields(v); !slices.Equal(documented, fields) {
			t.Errorf("schema %s in openapi.yaml has properties %q, want the Go type's JSON fields %q", name, documented, fields)
		}
	}
}

// jsonFields lists the JSON field names of a struct type.
func jsonFields(v any) []string {
	var out []string
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
