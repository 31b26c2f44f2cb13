package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/web"
)

type clientIPKey struct{}

// clientAddr returns the client's address the requestValues middleware
// settled on, or the zero Addr.
func clientAddr(ctx context.Context) netip.Addr {
	ip, _ := ctx.Value(clientIPKey{}).(netip.Addr)
	return ip
}

// requestValues puts what every request's logs, limits and answers need
// into its context, in one copy of the request: its id (see requestID)
// and its client's address (see clientAddress).
func requestValues(trustedProxies int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := requestID(r)
			w.Header()["X-Request-Id"] = []string{id} // the key is canonical: no Set
			ctx := web.WithRequestID(r.Context(), id)
			ctx = context.WithValue(ctx, clientIPKey{}, clientAddress(r, trustedProxies))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// clientAddress returns the client's address for logs and rate limits,
// trusting X-Forwarded-For only as far as the configured number of
// proxies: with none, the client is the peer; with n, it is the n-th
// entry from the right (each trusted proxy appends the address it
// received from). When that entry is missing or not an address, the
// client is the peer: a request that bypassed the proxies, or a broken
// header, must not put every such client in one shared "unknown"
// rate-limit bucket.
func clientAddress(r *http.Request, trustedProxies int) netip.Addr {
	if trustedProxies > 0 {
		if ip := forwardedAddr(r.Header["X-Forwarded-For"], trustedProxies); ip.IsValid() {
			return ip
		}
	}
	return peerAddr(r.RemoteAddr)
}

// peerAddr parses the host of a RemoteAddr; an IPv4 client of a
// dual-stack listener (::ffff:a.b.c.d) is folded to plain IPv4.
func peerAddr(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr // a bare address, as tests set
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// forwardedAddr returns the n-th address from the right of the
// X-Forwarded-For entries, counting every header line in order (so a
// client cannot choose what is read by adding a line), or the zero Addr.
func forwardedAddr(headers []string, n int) netip.Addr {
	for i := len(headers) - 1; i >= 0; i-- {
		h := headers[i]
		for h != "" {
			entry := h
			if j := strings.LastIndexByte(h, ','); j >= 0 {
				entry, h = h[j+1:], h[:j]
			} else {
				h = ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if n--; n == 0 {
				ip, err := netip.ParseAddr(entry)
				if err != nil {
					return netip.Addr{}
				}
				return ip.Unmap().WithZone("")
			}
		}
	}
	return netip.Addr{}
}

// requestID returns the request's id: the caller's X-Request-Id when it
// is sane (a proxy or another service may have set it, and keeping it
// ties their logs to ours), else a new random one. The id goes back in
// the response header, and into the request's context
// (web.WithRequestID), from which every log line written for the request
// and every problem response take it.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		return id
	}
	return newRequestID()
}

// newRequestID returns 26 characters of base32 holding 128 random bits.
// They come from the runtime's generator (ChaCha8, seeded from the system
// once, per thread): unique without a system call or a lock per request.
// An id needs to be unique, not secret: a caller may choose its own.
func newRequestID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [26]byte
	x, y := rand.Uint64(), rand.Uint64() // #nosec G404 -- unique, not secret: see above
	for i := range 12 {
		b[i], b[12+i] = alphabet[x&31], alphabet[y&31]
		x, y = x>>5, y>>5
	}
	rest := x | y<<4 // the 4 bits left of each
	b[24], b[25] = alphabet[rest&31], alphabet[rest>>5]
	return string(b[:])
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

// unmatched is the route label of requests that matched no route, so that
// scanners probing random paths cannot create new metric series.
const unmatched = "unmatched"

// quiet reports whether route's successful requests are logged at debug
// level only: platform probes would otherwise drown the access log.
func quiet(route string) bool {
	return route == "/livez" || route == "/readyz"
}

// observe writes one access-log line per request and records the RED
// metrics, both labelled with the chi route pattern. A request whose
// context was cancelled before it was done (its client went away, or
// shutdown gave up on it) is recorded with the status the error table
// gives kind.Canceled for the log: no client sees it.
//
// The bookkeeping runs deferred, so that a request that panics after its
// response has begun (the recoverer can then only cut the response off)
// is still logged, counted and timed, and leaves the in-flight gauge.
func observe(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	access := logging.NewAccessLog(log)
	_, clientClosed := web.Status(kind.Canceled)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			m.inFlight.Inc()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			done := false
			defer func() {
				m.inFlight.Dec()
				// One clock read, of the monotonic clock only; the line's
				// wall time follows from the start's.
				elapsed := time.Since(start)
				route := unmatched
				if p := chi.RouteContext(r.Context()).RoutePattern(); p != "" {
					route = p
				}
				status := ww.Status()
				switch {
				case !done: // a panic cut it off: what was sent, else a 500
					if status == 0 {
						status, _ = web.Status(kind.Internal)
					}
				case errors.Is(r.Context().Err(), context.Canceled):
					status = clientClosed
				case status == 0:
					status = http.StatusOK
				}
				m.observe(r.Context(), metricMethod(r.Method), route, status, elapsed)

				level := slog.LevelInfo
				if quiet(route) && status < 500 {
					level = slog.LevelDebug
				}
				if !access.Enabled(level) {
					return
				}
				access.Write(r.Context(), logging.Request{
					Time: start.Add(elapsed), Level: level, Method: r.Method, Route: route, Path: r.URL.Path,
					Status: status, Bytes: ww.BytesWritten(), Duration: elapsed, ClientIP: clientAddr(r.Context()), Aborted: !done,
				})
			}()
			next.ServeHTTP(ww, r)
			done = true
		})
	}
}

// errPanic is what a client is told of a handler that panicked: an
// internal error, whose detail the table never shows.
var errPanic = kind.New(kind.Internal, "panic")

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
				if ww, ok := w.(middleware.WrapResponseWriter); ok && ww.Status() != 0 {
					// The response has begun; the best left is to cut it off.
					panic(http.ErrAbortHandler)
				}
				web.Problem(w, r, errPanic)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// Header values shared by every response. They are never modified.
var (
	nosniff        = []string{"nosniff"}
	noReferrer     = []string{"no-referrer"}
	apiCSP         = []string{"default-src 'none'; frame-ancestors 'none'"}
	hsts           = []string{"max-age=63072000; includeSubDomains"}
	sameOriginCORP = []string{"same-origin"}
)

// securityHeaders sets the headers an API should send on every response.
//
// Framing is refused by the CSP's frame-ancestors, not by X-Frame-Options
// as well: CSP Level 2 made frame-ancestors the successor of that header,
// and a browser that enforces it ignores X-Frame-Options when both are
// sent (every browser in support does).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["Referrer-Policy"] = noReferrer
		h["Content-Security-Policy"] = apiCSP
		h["Strict-Transport-Security"] = hsts
		h["Cross-Origin-Resource-Policy"] = sameOriginCORP
		next.ServeHTTP(w, r)
	})
}

// errAtCapacity answers a request over the cap on requests served at once.
var errAtCapacity = kind.New(kind.Unavailable, "the server is at capacity; retry after the Retry-After header's seconds")

// shed caps the requests served at once. One over the cap gets 503 with
// Retry-After at once: queueing it would only grow memory and latency
// until every request timed out. A request holds its place no longer
// than its route's deadline (see limits), body read included.
func shed(limit int) func(http.Handler) http.Handler {
	var inFlight atomic.Int64
	maxInFlight := int64(limit)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight {
				web.Problem(w, r, errAtCapacity)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Limits bounds a request's body size and gives the request a deadline:
// its context's, and the connection's read deadline, so that a client
// sending its body slowly holds its place (see shed) no longer than the
// route's deadline either. It belongs on routes that read a body or wait
// on a backing service; a route that does neither saves its cost (a timer
// per request). Routes that need other bounds wrap their handler in
// Limits of their own; the smaller body limit and the earlier deadline
// win.
func Limits(maxBody int64, timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > maxBody {
				web.Problem(w, r, web.BodyTooLarge(maxBody))
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			if r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, maxBody)
				deadline, _ := ctx.Deadline()
				// A writer that cannot set one (a test's recorder) leaves
				// the body to the server's read timeout.
				_ = http.NewResponseController(w).SetReadDeadline(deadline)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
