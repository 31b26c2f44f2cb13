package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/web"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricFamily returns the gathered family of the named metric, or nil.
func metricFamily(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// statusCounts returns http_requests_total by its status label.
func statusCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	counts := map[string]float64{}
	for _, m := range metricFamily(t, reg, "http_requests_total").GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "status" {
				counts[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	return counts
}

// durationSamples counts http_request_duration_seconds observations.
func durationSamples(t *testing.T, reg *prometheus.Registry) uint64 {
	t.Helper()
	var n uint64
	for _, m := range metricFamily(t, reg, "http_request_duration_seconds").GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// accessLines returns the access-log lines among lines.
func accessLines(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

// A panic after the response has begun can only cut the response off;
// the request must still be counted, timed and logged, and leave the
// in-flight gauge.
func TestPanicAfterResponseBegan(t *testing.T) {
	d, reg, logs := testDeps(t)
	r := newRouter(d)
	r.Get("/half", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("partial"))
		panic("broken after writing")
	})
	func() {
		defer func() {
			if err, _ := recover().(error); !errors.Is(err, http.ErrAbortHandler) {
				t.Errorf("recovered %v, want http.ErrAbortHandler to cut the response off", err)
			}
		}()
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/half", nil))
	}()

	if g := metricFamily(t, reg, "http_requests_in_flight").GetMetric()[0].GetGauge().GetValue(); g != 0 {
		t.Errorf("http_requests_in_flight = %v after the request ended, want 0", g)
	}
	if got := statusCounts(t, reg); got["200"] != 1 {
		t.Errorf("http_requests_total by status = %v, want the one request under the 200 it sent", got)
	}
	if n := durationSamples(t, reg); n != 1 {
		t.Errorf("http_request_duration_seconds has %d samples, want 1", n)
	}
	access := accessLines(logs.Lines(t))
	if len(access) != 1 || access[0]["route"] != "/half" || access[0]["aborted"] != true || access[0]["bytes"] != float64(7) {
		t.Errorf("access log = %v, want one line for /half, aborted, 7 bytes", access)
	}
}

// A request whose context is cancelled before it is done (the client went
// away, or shutdown gave up on it) is no server error: it is logged and
// counted as 499, and nothing is logged at error level.
func TestCancelledRequestIsClientClosed(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cancel func(client, base context.CancelFunc)
		// wantStatus is what a client still waiting gets; 0 when none is.
		wantStatus int
	}{
		{"client went away", func(client, _ context.CancelFunc) { client() }, 0},
		{"shutdown gave up", func(_, base context.CancelFunc) { base() }, http.StatusServiceUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, reg, logs := testDeps(t)
			r := newRouter(d)
			started := make(chan struct{})
			r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
				close(started)
				<-r.Context().Done() // a query waiting on the database, say
				web.Error(w, r, d.Log, fmt.Errorf("get note: %w", r.Context().Err()))
			})
			srv := httptest.NewUnstartedServer(r)
			base, cancelBase := context.WithCancel(context.Background())
			defer cancelBase()
			srv.Config.BaseContext = func(net.Listener) context.Context { return base }
			srv.Start()
			defer srv.Close()

			ctx, cancelClient := context.WithCancel(context.Background())
			defer cancelClient()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
			type result struct {
				status int
				err    error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := srv.Client().Do(req)
				if err != nil {
					done <- result{err: err}
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- result{status: resp.StatusCode}
			}()
			<-started
			tt.cancel(cancelClient, cancelBase)
			res := <-done
			if tt.wantStatus != 0 && (res.err != nil || res.status != tt.wantStatus) {
				t.Errorf("waiting client got %d, %v; want %d", res.status, res.err, tt.wantStatus)
			}

			// The access line is written after the response; wait for it.
			var access []map[string]any
			for deadline := time.Now().Add(10 * time.Second); len(access) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				access = accessLines(logs.Lines(t))
			}
			if len(access) != 1 || access[0]["status"] != float64(499) || access[0]["level"] != "info" {
				t.Errorf("access log = %v, want one info line with status 499", access)
			}
			for _, l := range logs.Lines(t) {
				if l["level"] == "error" {
					t.Errorf("error line logged for a cancelled request: %v", l)
				}
			}
			if got := statusCounts(t, reg); got["499"] != 1 || got["500"] != 0 {
				t.Errorf("http_requests_total by status = %v, want one 499 and no 500", got)
			}
		})
	}
}

func TestNewRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if len(id) != 26 || !validRequestID(id) || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("newRequestID() = %q, want 26 characters of base32", id)
		}
		if seen[id] {
			t.Fatalf("newRequestID() = %q twice in 1000 calls", id)
		}
		seen[id] = true
	}
}
