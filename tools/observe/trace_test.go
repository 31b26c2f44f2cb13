package observe

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// Trace ids the test's requests carry in their traceparent headers, so
// that it knows which traces are theirs.
const (
	createTrace   = "0af7651916cd43dd8448eb211c80319c"
	redirectTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan    = "00f067aa0ba902b7"
)

// TestTraceFromRequestToJob runs the server, exporting over gRPC, and the
// worker, exporting over HTTP, against one receiver, and follows a
// created link and a redirect through both processes.
func TestTraceFromRequestToJob(t *testing.T) {
	rcv := newReceiver(t)
	env := backing(t)
	server := clone(env)
	server["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + rcv.grpcAddr
	server["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
	server["OTEL_BSP_SCHEDULE_DELAY"] = "100"
	worker := clone(env)
	worker["OTEL_EXPORTER_OTLP_ENDPOINT"] = rcv.httpURL
	worker["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
	worker["OTEL_BSP_SCHEDULE_DELAY"] = "100"
	worker["OTEL_SERVICE_NAME"] = "dozen-worker"
	worker["LOG_LEVEL"] = "debug" // the fold job logs at debug
	srv := start(t, "server", server)
	wrk := start(t, "worker", worker)

	status, body := do(t, "POST", srv.public+"/v1/links", `{"url":"https://example.com/traced","code":"tracedZ"}`, map[string]string{
		"Authorization": "Bearer " + token, "Content-Type": "application/json",
		"Traceparent": "00-" + createTrace + "-" + callerSpan + "-01",
	})
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s, want 201", status, body)
	}
	status, body = do(t, "GET", srv.public+"/tracedZ", "", map[string]string{
		"Traceparent": "00-" + redirectTrace + "-" + callerSpan + "-01",
	})
	if status != http.StatusFound {
		t.Fatalf("redirect = %d %s, want 302", status, body)
	}

	t.Run("create: server span with database child spans", func(t *testing.T) {
		var create span
		if !eventually(10*time.Second, func() bool {
			got := rcv.find(func(s span) bool { return s.traceID == createTrace && s.name == "POST /v1/links" })
			if len(got) == 1 {
				create = got[0]
			}
			return len(got) == 1
		}) {
			t.Fatalf("no server span POST /v1/links in the caller's trace; received %v", rcv.names())
		}
		if create.service != "server" || create.parentID != callerSpan {
			t.Errorf("create span: service %q parent %q, want server and the caller's span %s", create.service, create.parentID, callerSpan)
		}
		if !eventually(5*time.Second, func() bool {
			return len(rcv.find(func(s span) bool {
				return descends(rcv, s, create.spanID) && s.attrs["db.system.name"] == "postgresql"
			})) > 0
		}) {
			t.Errorf("no postgresql span under the create span; received %v", rcv.names())
		}
	})

	t.Run("redirect: click flush, then the worker's fold linked to it", func(t *testing.T) {
		var redirect span
		if !eventually(10*time.Second, func() bool {
			got := rcv.find(func(s span) bool { return s.traceID == redirectTrace && s.name == "GET /{code}" })
			if len(got) == 1 {
				redirect = got[0]
			}
			return len(got) == 1
		}) {
			t.Fatalf("no server span GET /{code} in the caller's trace; received %v", rcv.names())
		}
		var insert span
		if !eventually(10*time.Second, func() bool {
			got := rcv.find(func(s span) bool {
				return s.name == "river.insert_many" && descends(rcv, s, redirect.spanID)
			})
			if len(got) > 0 {
				insert = got[0]
			}
			return len(got) > 0
		}) {
			t.Fatalf("no job insert under the redirect (by its click flush); received %v", rcv.names())
		}
		var fold span
		if !eventually(15*time.Second, func() bool {
			got := rcv.find(func(s span) bool {
				if s.name != "river.work/fold_clicks" {
					return false
				}
				for _, l := range s.links {
					if l.traceID == redirectTrace && l.spanID == insert.spanID {
						return true
					}
				}
				return false
			})
			if len(got) > 0 {
				fold = got[0]
			}
			return len(got) > 0
		}) {
			t.Fatalf("no fold job span linked to the redirect's insert; received %v", rcv.names())
		}
		if fold.service != "dozen-worker" {
			t.Errorf("fold span's service = %q, want dozen-worker (OTEL_SERVICE_NAME)", fold.service)
		}
		if len(rcv.find(func(s span) bool { return s.parentID == fold.spanID && s.attrs["db.system.name"] == "postgresql" })) == 0 {
			t.Errorf("no postgresql span under the fold span")
		}

		t.Run("log lines carry the trace ids", func(t *testing.T) {
			for _, tc := range []struct {
				p     *process
				want  map[string]any
				trace string
			}{
				{srv, map[string]any{"msg": "request", "route": "/v1/links"}, createTrace},
				{srv, map[string]any{"msg": "request", "route": "/{code}"}, redirectTrace},
				{wrk, map[string]any{"msg": "folded clicks"}, fold.traceID},
			} {
				want := tc.want
				want["trace_id"] = tc.trace
				if !eventually(5*time.Second, func() bool { return len(tc.p.logged(want)) > 0 }) {
					t.Errorf("no log line %v", want)
				}
			}
		})
	})

	t.Run("exemplar on /metrics", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.admin+"/metrics", nil)
		req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
			t.Errorf("/metrics Content-Type = %q, want OpenMetrics", ct)
		}
		re := regexp.MustCompile(`(?m)^http_request_duration_seconds_bucket\{[^}]*route="/v1/links"[^}]*\} \d+ # \{trace_id="` + createTrace + `"\}`)
		if !re.Match(b) {
			t.Errorf("no exemplar with the create's trace id on http_request_duration_seconds; got:\n%s", grep(string(b), "http_request_duration_seconds_bucket"))
		}
	})
}

// descends reports whether s is, through its parents in the same trace,
// below the span with id ancestor.
func descends(rcv *receiver, s span, ancestor string) bool {
	byID := map[string]span{}
	for _, x := range rcv.find(func(x span) bool { return x.traceID == s.traceID }) {
		byID[x.spanID] = x
	}
	for range 32 {
		if s.parentID == ancestor {
			return true
		}
		p, ok := byID[s.parentID]
		if !ok {
			return false
		}
		s = p
	}
	return false
}

// grep returns the lines of text that contain s.
func grep(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCollectorDown: with the collector unreachable, requests still
// succeed, the failure is logged once rather than per span, and a stop
// gives up on the spans at the end of its budget instead of waiting out
// the exporter's own timeout.
func TestCollectorDown(t *testing.T) {
	env := backing(t)
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:" + strconv.Itoa(proctest.FreePort(t)) // nothing listens
	env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
	env["OTEL_BSP_SCHEDULE_DELAY"] = "50"

	t.Run("requests unaffected, failure logged once", func(t *testing.T) {
		env := clone(env)
		env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "200" // each export gives up fast, so many fail
		srv := start(t, "server", env)
		for i := range 50 {
			if status, body := do(t, "GET", srv.public+"/version", "", nil); status != http.StatusOK {
				t.Fatalf("request %d = %d %s, want 200", i, status, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		failed := map[string]any{"msg": "tracing: spans could not be exported; requests are unaffected, spans are dropped"}
		if !eventually(10*time.Second, func() bool { return len(srv.logged(failed)) > 0 }) {
			t.Fatal("the export failures were never logged")
		}
		time.Sleep(time.Second) // more exports fail meanwhile
		if n := len(srv.logged(failed)); n != 1 {
			t.Errorf("export failures logged %d times in a second, want once", n)
		}
	})

	t.Run("stop gives up on spans at the end of its budget", func(t *testing.T) {
		env := clone(env)
		env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "60000" // an export alone would wait a minute
		env["SHUTDOWN_TIMEOUT"] = "2s"
		srv := start(t, "server", env)
		if status, _ := do(t, "GET", srv.public+"/version", "", nil); status != http.StatusOK {
			t.Fatalf("request = %d, want 200", status)
		}
		if took := srv.stop(t); took > 20*time.Second {
			t.Errorf("stop took %s with SHUTDOWN_TIMEOUT=2s, want it bounded by the budget, not by the exporter's minute", took)
		}
		if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit code = %d, want 0: unexported spans do not fail a stop", code)
		}
	})
}
