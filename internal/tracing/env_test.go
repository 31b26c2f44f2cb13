package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBadValuesStopStartup: each bad value of a variable the SDK reads
// stops start-up with an error that names the variable and does not
// quote the value. Left to the SDK, a negative queue size panics, an
// unknown sampler is logged and replaced, a malformed header is logged
// with its value, and a bad number is silently replaced by the default.
func TestBadValuesStopStartup(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("s3cr3t-not-a-certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value string
		want        string // in the error; name when empty
	}{
		{"OTEL_BSP_MAX_QUEUE_SIZE", "-5", ""},
		{"OTEL_BSP_MAX_QUEUE_SIZE", "0", ""},
		{"OTEL_BSP_MAX_QUEUE_SIZE", "lots", ""},
		{"OTEL_BSP_MAX_QUEUE_SIZE", " 5", ""}, // the SDK does not trim these
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-1", ""},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096", ""}, // more than the queue holds
		{"OTEL_BSP_SCHEDULE_DELAY", "-1", ""},
		{"OTEL_BSP_SCHEDULE_DELAY", "5s", ""},
		{"OTEL_BSP_EXPORT_TIMEOUT", "0", ""},
		{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many", ""},
		{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1e3", ""},
		{"OTEL_SPAN_EVENT_COUNT_LIMIT", "x", ""},
		{"OTEL_SPAN_LINK_COUNT_LIMIT", "x", ""},
		{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "x", ""},
		{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "x", ""},
		{"OTEL_ATTRIBUTE_COUNT_LIMIT", "x", ""},
		{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "x", ""},
		{"OTEL_TRACES_SAMPLER", "bogus", ""},
		{"OTEL_TRACES_SAMPLER", "jaeger_remote", ""}, // not in the Go SDK
		{"OTEL_TRACES_SAMPLER_ARG", "1.5", ""},
		{"OTEL_TRACES_SAMPLER_ARG", "half", ""},
		{"OTEL_PROPAGATORS", "b3", ""},
		{"OTEL_SDK_DISABLED", "yes", ""},
		{"OTEL_TRACES_EXPORTER", "zipkin", ""},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift", ""},
		{"OTEL_EXPORTER_OTLP_HEADERS", "Authorization:Bearer s3cr3t", ""},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t,", ""},
		{"OTEL_EXPORTER_OTLP_HEADERS", "bad key=s3cr3t", ""},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t%zz", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "Authorization: Bearer s3cr3t", ""},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s", ""},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "-1", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0", ""},
		{"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "brotli", ""},
		{"OTEL_EXPORTER_OTLP_INSECURE", "maybe", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "1", ""},
		{"OTEL_EXPORTER_OTLP_CERTIFICATE", filepath.Join(dir, "s3cr3t-missing.pem"), ""},
		{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", notPEM, ""},
		{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", notPEM, "CLIENT_KEY must be set together"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "s3cr3t.collector:4318", ""},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://s3cr3t@collector", ""},
		{"OTEL_RESOURCE_ATTRIBUTES", "team=s3cr3t,novalue", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
			t.Setenv(tt.name, tt.value)
			var logs bytes.Buffer
			_, shutdown, err := start(t, slog.New(slog.NewJSONHandler(&logs, nil)))
			if err == nil {
				_ = shutdown(t.Context())
				t.Fatalf("Start() succeeded, want an error naming %s", tt.name)
			}
			want := tt.want
			if want == "" {
				want = tt.name
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Start() error = %q, want one naming %s", err, want)
			}
			for _, leak := range []string{"s3cr3t", tt.value} {
				if len(leak) > 3 && (strings.Contains(err.Error(), leak) || strings.Contains(logs.String(), leak)) {
					t.Errorf("the value %q reached the error or the log:\n%v\n%s", leak, err, logs.String())
				}
			}
		})
	}
}

// TestGoodValuesStart: the values the specification allows start.
func TestGoodValuesStart(t *testing.T) {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":            "https://collector.example:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":     "http://127.0.0.1:4318/v1/traces",
		"OTEL_EXPORTER_OTLP_HEADERS":             "api-key=abc%20def, x-tenant = t1",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":      "Authorization=Bearer%20xyz",
		"OTEL_EXPORTER_OTLP_TIMEOUT":             "5000",
		"OTEL_EXPORTER_OTLP_COMPRESSION":         "gzip",
		"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION":  "none",
		"OTEL_EXPORTER_OTLP_INSECURE":            "FALSE",
		"OTEL_BSP_SCHEDULE_DELAY":                "0",
		"OTEL_BSP_MAX_QUEUE_SIZE":                "100",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE":         "100",
		"OTEL_BSP_EXPORT_TIMEOUT":                "1000",
		"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-1",
		"OTEL_TRACES_SAMPLER":                    "ParentBased_TraceIDRatio",
		"OTEL_TRACES_SAMPLER_ARG":                "0.25",
		"OTEL_PROPAGATORS":                       "tracecontext, baggage",
		"OTEL_RESOURCE_ATTRIBUTES":               "deployment.environment=prod,team=a%2Cb",
		"OTEL_SERVICE_NAME":                      "svc",
		"OTEL_SDK_DISABLED":                      "false",
		"OTEL_TRACES_EXPORTER":                   "otlp",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	on, shutdown, err := start(t, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	defer shutdown(t.Context())
	if !on {
		t.Error("tracing is off")
	}
}

// TestSecretsNeverLogged: the headers' values and the endpoint's query
// and user info reach no log line, neither the one that says tracing is
// on nor those that report failed exports.
func TestSecretsNeverLogged(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized) // every export fails
	}))
	defer rcv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", strings.Replace(rcv.URL, "http://", "http://user:pw-s3cr3t1@", 1)+"/?token=s3cr3t2")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20s3cr3t3,x-key=s3cr3t4")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "10")

	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	tp, shutdown, err := Start(t.Context(), os.LookupEnv, log, "test")
	if err != nil {
		t.Fatal(err)
	}
	logged := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), s)
	}
	for deadline := time.Now().Add(10 * time.Second); !logged("spans could not be exported"); {
		if time.Now().After(deadline) {
			t.Fatal("no export failure reported within 10s")
		}
		_, span := tp.Tracer("test").Start(context.Background(), "lost")
		span.End()
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = shutdown(ctx)

	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "tracing on") {
		t.Errorf("no line says tracing is on:\n%s", logs.String())
	}
	for _, secret := range []string{"s3cr3t", "token=", "user:"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("%q reached the log:\n%s", secret, logs.String())
		}
	}
}

func TestRedact(t *testing.T) {
	get := func(k string) string {
		return map[string]string{
			"OTEL_EXPORTER_OTLP_HEADERS":         "a=x%2Fy,b= z ",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://u:p4ss@h/v1/traces?k=v%20w&k2=v2",
		}[k]
	}
	s := collectSecrets(get)
	msg := `Post "https://u:***@h/v1/traces?k=v%20w&k2=v2": header a: x/y x%2Fy z; k=v w; user u p4ss`
	got := s.redact(msg)
	for _, leak := range []string{"x/y", "x%2Fy", " z", "v%20w", "v w", "v2", "p4ss", "u:"} {
		if strings.Contains(got, leak) {
			t.Errorf("redact left %q in %q", leak, got)
		}
	}
}
