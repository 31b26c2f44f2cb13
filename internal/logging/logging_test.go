package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJSONLines(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON})
	ctx := WithAttrs(context.Background(), slog.String("request_id", "r1"))
	ctx = WithAttrs(ctx, slog.String("user", "u1"))
	log.DebugContext(ctx, "hidden")
	log.InfoContext(ctx, "shown", "n", 3, "d", 1500*time.Millisecond)
	log.Warn("no context")
	if err := flush(); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (debug filtered out): %q", len(lines), out.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("line %q is not JSON: %v", lines[0], err)
	}
	want := map[string]any{"level": "info", "msg": "shown", "n": float64(3), "d": 1.5, "request_id": "r1", "user": "u1"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("line[%q] = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["time"]; !ok {
		t.Errorf("line %v has no time", first)
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("line without context = %q, carries a request id", lines[1])
	}
}

func TestConsoleFormat(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogConsole})
	log.Info("hello", "k", "v")
	flush()
	if s := out.String(); strings.HasPrefix(s, "{") || !strings.Contains(s, "INFO") || !strings.Contains(s, "hello") {
		t.Errorf("console line = %q, want a human-readable line", s)
	}
}

func TestBufferedFlush(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: time.Hour})
	log.Info("buffered")
	if out.String() != "" {
		t.Fatalf("line written before a flush: %q", out.String())
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "buffered") {
		t.Errorf("after flush, output = %q, want the buffered line", out.String())
	}

	out = syncBuffer{}
	log, flush = New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: 20 * time.Millisecond})
	defer flush()
	log.Info("timer")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "timer") {
		if time.Now().After(deadline) {
			t.Fatal("line not written by the flush timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
