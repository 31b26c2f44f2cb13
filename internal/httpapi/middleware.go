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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/web"
)

// exchange is the state that one request's middleware share, in the one
// allocation the stack makes per request: the context handed down (a
// logging.Scope, which puts the request id on every log line), the
// client's address and the response recorder. The middleware fill it in,
// outermost first, before the handler runs; after that only the recorder
// changes.
type exchange struct {
	logging.Scope
	// route is chi's routing context, when withExchange made the exchange;
	// nil otherwise, and chi adds its own to the request's context.
	route    *chi.Context
	clientIP netip.Addr   // the zero Addr when unknown
	idHeader [1]string    // the request id, as the header value
	attrs    [1]slog.Attr // the request id, as the Scope's attribute
	rec      recorder     // set by observe
}

type exchangeKey struct{}

// Value answers for the exchange itself and for its routing context;
// other keys go to the Scope.
func (e *exchange) Value(key any) any {
	if key == (exchangeKey{}) {
		return e
	}
	if key == chi.RouteCtxKey && e.route != nil {
		return e.route
	}
	return e.Scope.Value(key)
}

// withExchange makes each request's exchange before mux sees the request,
// with a routing context from a pool in it. Finding that context in the
// request's context, chi makes none of its own: one context and one copy
// of the request fewer per request than when the first middleware makes
// the exchange. The result is still mux's routes for whoever walks them.
func withExchange(mux *chi.Mux) *exchangeMux {
	return &exchangeMux{Mux: mux, routeContexts: sync.Pool{New: func() any { return chi.NewRouteContext() }}}
}

type exchangeMux struct {
	*chi.Mux
	routeContexts sync.Pool
}

func (m *exchangeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rctx := m.routeContexts.Get().(*chi.Context)
	rctx.Reset()
	rctx.Routes = m.Mux
	e := &exchange{route: rctx}
	e.Init(r.Context())
	m.Mux.ServeHTTP(w, r.WithContext(e))
	// As chi does with its own: a panic that gets this far leaves the
	// context to the garbage collector, which is harmless.
	m.routeContexts.Put(rctx)
}

// exchangeOf returns r's exchange, making it, and the request that carries
// it, for the first middleware that asks.
func exchangeOf(r *http.Request) (*exchange, *http.Request) {
	if e, ok := r.Context().Value(exchangeKey{}).(*exchange); ok {
		return e, r
	}
	e := &exchange{}
	e.Init(r.Context())
	return e, r.WithContext(e)
}

// clientIP records the client's address for logs and rate limits, trusting
// X-Forwarded-For only as far as the configured number of proxies: with
// none, the client is the peer; with n, it is the n-th entry from the
// right (each trusted proxy appends the address it received from). When
// that entry is missing or not an address, the client is the peer: a
// request that bypassed the proxies, or a broken header, must not put
// every such client in one shared "unknown" rate-limit bucket.
func clientIP(trustedProxies int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e, r := exchangeOf(r)
			if trustedProxies == 0 {
				e.clientIP = peerAddr(r.RemoteAddr)
			} else {
				e.clientIP = forwardedAddr(r.Header["X-Forwarded-For"], trustedProxies)
			}
			if !e.clientIP.IsValid() {
				e.clientIP = peerAddr(r.RemoteAddr)
			}
			next.ServeHTTP(w, r)
		})
	}
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

// requestID gives each request an id: the caller's X-Request-Id when it is
// sane (a proxy or another service may have set it, and keeping it ties
// their logs to ours), else a new random one. The id goes back in the
// response header, into every log line written for the request, and into
// every problem response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, r := exchangeOf(r)
		var id string
		if v := r.Header["X-Request-Id"]; len(v) > 0 { // the key is canonical: no Get
			id = v[0]
		}
		if !validRequestID(id) {
			id = newRequestID()
		}
		e.idHeader[0] = id
		w.Header()["X-Request-Id"] = e.idHeader[:]
		e.attrs[0] = slog.String(web.RequestIDKey, id)
		e.Add(e.attrs[:]...)
		next.ServeHTTP(w, r)
	})
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

// statusClientClosed is the status logged and counted for a request whose
// context was cancelled before it was done: its client went away, or
// shutdown gave up on it. No client sees it; 499 is the common convention
// for "client closed request", and it keeps these out of the 5xx.
const statusClientClosed = 499

// quiet reports whether route's successful requests are logged at debug
// level only: platform probes would otherwise drown the access log.
func quiet(route string) bool {
	return route == "/livez" || route == "/readyz"
}

// observe writes one access-log line per request and records the RED
// metrics, both labelled with the chi route pattern. Use it once per
// request: it keeps its recorder in the request's exchange.
//
// The bookkeeping runs deferred, so that a request that panics after its
// response has begun (the recoverer can then only cut the response off)
// is still logged, counted and timed, and leaves the in-flight gauge.
func observe(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	access := logging.NewAccessLog(log, m.traced)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e, r := exchangeOf(r)
			start := time.Now()
			m.inFlight.Inc()
			e.rec = recorder{ResponseWriter: w}
			done := false
			defer func() {
				m.inFlight.Dec()
				// One clock read, of the monotonic clock only; the line's
				// wall time follows from the start's.
				elapsed := time.Since(start)
				end := start.Add(elapsed)
				route := unmatched
				if rctx := chi.RouteContext(r.Context()); rctx != nil {
					// RoutePattern joins the pattern anew at each call: once.
					if p := rctx.RoutePattern(); p != "" {
						route = p
					}
				}
				status := e.rec.status
				switch {
				case !done: // a panic cut it off: what was sent, else a 500
					if status == 0 {
						status = http.StatusInternalServerError
					}
				case errors.Is(r.Context().Err(), context.Canceled):
					status = statusClientClosed
				case status == 0:
					status = http.StatusOK
				}
				method := metricMethod(r.Method)
				m.route(method, route, status).observe(r.Context(), elapsed)

				level := slog.LevelInfo
				if quiet(route) && status < 500 {
					level = slog.LevelDebug
				}
				if !access.Enabled(r.Context(), level) {
					return
				}
				access.Write(r.Context(), &logging.Request{
					Time: end, Level: level, Method: r.Method, Route: route, Path: r.URL.Path,
					Status: status, Bytes: e.rec.bytes, Duration: elapsed, ClientIP: e.clientIP, Aborted: !done,
				})
			}()
			next.ServeHTTP(&e.rec, r)
			done = true
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
				web.Problem(w, r, http.StatusInternalServerError, "internal error; quote the request id when reporting it")
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
// sent (every browser in support does). A ninth header would also cost
// every response: net/http keeps headers in a Go map, which holds 8
// entries in one group and needs a table past that, grown as the handler
// fills it and copied again when the status is written.
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
				web.Problem(w, r, http.StatusServiceUnavailable, "the server is at capacity; retry after 1 second")
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
				web.Problem(w, r, http.StatusRequestEntityTooLarge, "request body is larger than "+strconv.FormatInt(maxBody, 10)+" bytes")
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
