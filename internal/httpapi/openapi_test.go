package httpapi

import (
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v3"
)

type spec struct {
	OpenAPI    string                               `json:"openapi"`
	Paths      map[string]map[string]jsontext.Value `json:"paths"`
	Components struct {
		Schemas map[string]specSchema `json:"schemas"`
	} `json:"components"`
}

type specOperation struct {
	OperationID string         `json:"operationId"`
	Tags        []string       `json:"tags"`
	Responses   map[string]any `json:"responses"`
}

// ownTags are the tags of the operations this package serves; every
// other tag is a feature's, whose own test compares its operations with
// its routes.
var ownTags = []string{"probes", "meta"}

type specSchema struct {
	Properties map[string]any `json:"properties"`
}

// loadSpec decodes the embedded document: YAML, which refuses a key given
// twice in one mapping, turned into JSON for the JSON v2 decoder, which
// refuses a field of the wrong type.
func loadSpec(t *testing.T) spec {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	b, err := jsonv2.Marshal(doc)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var s spec
	if err := jsonv2.Unmarshal(b, &s); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(s.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1", s.OpenAPI)
	}
	return s
}

// TestOpenAPIMatchesRoutes fails when a route is missing from the spec or
// the spec describes a route of this package's (see ownTags) that does not
// exist.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := loadSpec(t)
	var inSpec []string
	for path, ops := range s.Paths {
		for method, node := range ops {
			if method == "parameters" {
				continue
			}
			var op specOperation
			if err := jsonv2.Unmarshal(node, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if len(op.Responses) == 0 || op.OperationID == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s has no operationId, tags or responses", method, path)
			}
			if slices.ContainsFunc(op.Tags, func(tag string) bool { return slices.Contains(ownTags, tag) }) {
				inSpec = append(inSpec, strings.ToUpper(method)+" "+path)
			}
		}
	}
	d, _, _ := testDeps(t)
	var routed, gets, heads []string
	err := chi.Walk(NewServer(d).(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		switch method {
		case http.MethodHead:
			// The spec says once, in its description, that HEAD is
			// served wherever GET is.
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
	sort.Strings(inSpec)
	sort.Strings(routed)
	if !slices.Equal(inSpec, routed) {
		t.Errorf("openapi.yaml describes %q, want the routes served: %q", inSpec, routed)
	}
	sort.Strings(gets)
	sort.Strings(heads)
	if !slices.Equal(heads, gets) {
		t.Errorf("HEAD routes = %q, want the GET routes %q", heads, gets)
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
	sort.Strings(out)
	return out
}

// TestOpenAPISchemas fails when a documented body and its Go type disagree.
func TestOpenAPISchemas(t *testing.T) {
	s := loadSpec(t)
	types := map[string]any{
		"Problem": problem{},
	}
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
