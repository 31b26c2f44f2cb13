package tracing

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain unsets every OTEL_* variable: one in the environment running
// the tests must not change what they see. The SDK reads the process
// environment, so the tests set it, with t.Setenv.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}

// start runs Start with the process environment.
func start(t *testing.T, log *slog.Logger) (bool, func(context.Context) error, error) {
	t.Helper()
	tp, shutdown, err := Start(t.Context(), os.LookupEnv, log, "test")
	return tp != nil, shutdown, err
}

func TestOffAndErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantOn  bool
		wantErr string // "" for none
	}{
		{name: "nothing set", env: nil},
		{name: "service name alone", env: map[string]string{"OTEL_SERVICE_NAME": "svc"}},
		{name: "disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "http", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, wantOn: true},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantOn: true},
		{name: "traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, wantOn: true},
		{name: "json protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "other exporter", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "zipkin"},
			wantErr: "OTEL_TRACES_EXPORTER"},
		{name: "endpoint not a URL", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"},
			wantErr: "OTEL_EXPORTER_OTLP_ENDPOINT must be a URL"},
		{name: "bad resource attributes", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_RESOURCE_ATTRIBUTES": "novalue"},
			wantErr: "OTEL_RESOURCE_ATTRIBUTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			on, shutdown, err := start(t, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Start() error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start() error = %v", err)
			}
			defer shutdown(t.Context())
			if on != tt.wantOn {
				t.Errorf("Start() on = %v, want %v", on, tt.wantOn)
			}
		})
	}
}

func TestEndpointValueNeverInError(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "s3cret-token@collector")
	_, _, err := start(t, slog.New(slog.DiscardHandler))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Start() error = %v, want one that does not quote the value", err)
	}
}

// TestExportsAndShutdownFlushes runs against a receiver that accepts OTLP
// over HTTP: spans ended before shutdown reach it.
func TestExportsAndShutdownFlushes(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		if r.URL.Path != "/v1/traces" {
			t.Errorf("export to %s, want /v1/traces", r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer rcv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "flushed-svc")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "3600000") // only shutdown exports

	tp, shutdown, err := Start(t.Context(), os.LookupEnv, slog.New(slog.DiscardHandler), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "the-span")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	all := bytes.Join(bodies, nil)
	for _, want := range []string{"the-span", "flushed-svc"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("the receiver got no %q", want)
		}
	}
}

// TestUnreachableCollectorLoggedOnce: every export fails, one line says so.
func TestUnreachableCollectorLoggedOnce(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	addr := ln.URL
	ln.Close() // nothing listens there now
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", addr)
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "200")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "20")

	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	tp, shutdown, err := Start(t.Context(), os.LookupEnv, log, "test")
	if err != nil {
		t.Fatal(err)
	}
	// The batcher exports every 20ms: each batch fails.
	logged := func() int {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(logs.String(), "spans could not be exported")
	}
	deadline := time.Now().Add(10 * time.Second)
	for batches := 0; batches < 10 || logged() == 0; batches++ {
		if time.Now().After(deadline) {
			t.Fatal("no export failure reported within 10s")
		}
		_, span := tp.Tracer("test").Start(context.Background(), "lost")
		span.End()
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = shutdown(ctx)

	if n := logged(); n != 1 {
		t.Errorf("export failures logged %d times, want once:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
