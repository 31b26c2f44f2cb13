package observe

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// span is what the tests look at in one received span.
type span struct {
	service  string
	name     string
	traceID  string
	spanID   string
	parentID string
	attrs    map[string]string
	links    []link
}

type link struct{ traceID, spanID string }

// receiver is an OTLP trace receiver, over gRPC and over HTTP with
// protobuf bodies, built on the OpenTelemetry collector's pdata: it keeps
// every span it is sent.
type receiver struct {
	ptraceotlp.UnimplementedGRPCServer
	grpcAddr string // host:port of the gRPC listener
	httpURL  string // base URL of the HTTP listener

	mu    sync.Mutex
	spans []span
}

// newReceiver starts a receiver on loopback, stopped when the test ends.
func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	gln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(gs, r)
	go func() { _ = gs.Serve(gln) }()
	t.Cleanup(gs.Stop)
	r.grpcAddr = gln.Addr().String()

	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.serveHTTP)
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(hln) }()
	t.Cleanup(func() { hs.Close() })
	r.httpURL = "http://" + hln.Addr().String()
	return r
}

// Export implements ptraceotlp.GRPCServer.
func (r *receiver) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	r.add(req.Traces())
	return ptraceotlp.NewExportResponse(), nil
}

func (r *receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	er := ptraceotlp.NewExportRequest()
	if err := er.UnmarshalProto(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.add(er.Traces())
	out, _ := ptraceotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *receiver) add(td ptrace.Traces) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range td.ResourceSpans().All() {
		service := ""
		if v, ok := rs.Resource().Attributes().Get("service.name"); ok {
			service = v.AsString()
		}
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				sp := span{
					service: service, name: s.Name(),
					traceID: s.TraceID().String(), spanID: s.SpanID().String(), parentID: s.ParentSpanID().String(),
					attrs: map[string]string{},
				}
				for k, v := range s.Attributes().All() {
					sp.attrs[k] = v.AsString()
				}
				for _, l := range s.Links().All() {
					sp.links = append(sp.links, link{l.TraceID().String(), l.SpanID().String()})
				}
				r.spans = append(r.spans, sp)
			}
		}
	}
}

// find returns the spans received so far for which match is true.
func (r *receiver) find(match func(span) bool) []span {
	r.mu.Lock()
	all := r.spans[:len(r.spans):len(r.spans)] // match may call find
	r.mu.Unlock()
	var out []span
	for _, s := range all {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

// names lists the spans received so far, for failure messages.
func (r *receiver) names() []string {
	var out []string
	for _, s := range r.find(func(span) bool { return true }) {
		out = append(out, s.service+":"+s.name+"@"+s.traceID[:8])
	}
	return out
}
