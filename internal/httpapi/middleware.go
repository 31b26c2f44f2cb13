package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/dozen-go/dozen/internal/logging"
)

// requestIDKey is the log attribute, and so the context entry, that holds
// a request's id.
const requestIDKey = "request_id"

// RequestID returns the id of the request being served with ctx, or "".
func RequestID(ctx context.Context) string {
	return logging.Attr(ctx, requestIDKey)
}

// requestID gives each request an id: the caller's X-Request-Id when it is
// sane (a proxy or another service may have set it, and keeping it ties
// their logs to ours), else a new random one. The id goes back in the
// response header, into every log line written for the request, and into
// every problem response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = rand.Text()
		}
		w.Header()["X-Request-Id"] = []string{id}
		ctx := logging.WithAttrs(r.Context(), slog.String(requestIDKey, id))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// validRequestID accepts 1 to 64 characters of letters, digits and -_.:
// so that a caller cannot inject log lines or huge values.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// recorder captures the status and size of a response for the access log
// and the metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rw *recorder) WriteHeader(status int) {
	if rw.status == 0 {
		rw.status = status
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += n
	return n, err
}

// Flush lets streaming handlers flush through the recorder.
func (rw *recorder) Flush() {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// unmatched is the route label of requests that matched no route, so that
// scanners probing random paths cannot create new metric series.
const unmatched = "unmatched"

// quiet lists routes whose successful requests are logged at debug level
// only: platform probes would otherwise drown the access log.
var quiet = map[string]bool{"/livez": true, "/readyz": true}

// observe writes one access-log line per request and records the RED
// metrics, both labelled with the chi route pattern.
func observe(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			m.inFlight.Add(1)
			rw := &recorder{ResponseWriter: w}
			next.ServeHTTP(rw, r)
			m.inFlight.Add(-1)
			elapsed := time.Since(start)

			route := unmatched
			if rctx := chi.RouteContext(r.Context()); rctx != nil {
				// RoutePattern joins the pattern anew at each call: once.
				if p := rctx.RoutePattern(); p != "" {
					route = p
				}
			}
			if rw.status == 0 {
				rw.status = http.StatusOK
			}
			method := metricMethod(r.Method)
			m.observe(r.Context(), method, route, rw.status, elapsed)

			level := slog.LevelInfo
			if quiet[route] && rw.status < 500 {
				level = slog.LevelDebug
			}
			// The handler is called directly rather than through
			// log.LogAttrs: the access log is the one line per request, and
			// skipping slog's caller lookup saves a stack walk each time.
			h := log.Handler()
			if !h.Enabled(r.Context(), level) {
				return
			}
			rec := slog.NewRecord(start.Add(elapsed), level, "request", 0)
			rec.AddAttrs(
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", rw.status),
				slog.Int("bytes", rw.bytes),
				slog.Duration("duration", elapsed),
				slog.String("client_ip", middleware.GetClientIP(r.Context())),
			)
			_ = h.Handle(r.Context(), rec) // a failed log write has nowhere better to go
		})
	}
}

// recoverer turns a panic into a 500 problem response and an error log line
// with the stack. http.ErrAbortHandler is re-panicked: it is how a handler
// asks net/http to abort the response, and net/http handles it quietly.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if rw, ok := w.(*recorder); ok && rw.status != 0 {
					// The response has begun; the best left is to cut it off.
					panic(http.ErrAbortHandler)
				}
				writeProblem(w, r, http.StatusInternalServerError, "internal error; quote the request id when reporting it")
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// Header values shared by every response. They are never modified.
var (
	nosniff        = []string{"nosniff"}
	frameDeny      = []string{"DENY"}
	noReferrer     = []string{"no-referrer"}
	apiCSP         = []string{"default-src 'none'; frame-ancestors 'none'"}
	hsts           = []string{"max-age=63072000; includeSubDomains"}
	sameOriginCORP = []string{"same-origin"}
)

// securityHeaders sets the headers an API should send on every response.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = frameDeny
		h["Referrer-Policy"] = noReferrer
		h["Content-Security-Policy"] = apiCSP
		h["Strict-Transport-Security"] = hsts
		h["Cross-Origin-Resource-Policy"] = sameOriginCORP
		next.ServeHTTP(w, r)
	})
}

// shed caps the requests served at once. One over the cap gets 503 with
// Retry-After at once: queueing it would only grow memory and latency
// until every request timed out.
func shed(limit int) func(http.Handler) http.Handler {
	var inFlight atomic.Int64
	maxInFlight := int64(limit)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight {
				w.Header().Set("Retry-After", "1")
				writeProblem(w, r, http.StatusServiceUnavailable, "the server is at capacity; retry after "+strconv.Itoa(1)+" second")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limits bounds a request's body size and gives its context a deadline.
// It belongs on routes that read a body or wait on a backing service; a
// route that does neither saves its cost (a timer per request). Routes that
// need other bounds wrap their handler in limits of their own; the smaller
// body limit and the earlier deadline win.
func limits(maxBody int64, timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > maxBody {
				writeProblem(w, r, http.StatusRequestEntityTooLarge, "request body is larger than "+strconv.FormatInt(maxBody, 10)+" bytes")
				return
			}
			if r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
