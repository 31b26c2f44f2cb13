package links

// The link shortener's web side: its wiring (New), routes (Mount) and
// handlers.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/idempotency"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
	"github.com/dozen-go/dozen/internal/ratelimit"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/internal/web"
)

// Deps is what the web process gives the link shortener.
type Deps struct {
	Config config.Config
	Log    *slog.Logger
	Store  *store.Store
	// Jobs enqueues the fold of the click log with each batch of clicks.
	Jobs *jobs.Client
	// Redis, when not nil, holds the redirect cache and the rate-limit
	// counts, shared by every replica; nil keeps them in the process.
	Redis *redis.Client
	// Tracer traces the flushes of clicks; nil when tracing is off.
	Tracer trace.TracerProvider
}

// New wires the link shortener for the web process: its store, redirect
// cache, click counter and rate limit. It counts clicks in memory until
// Close; mount its routes with httpapi.Deps.Features.
func New(d Deps) *Feature {
	cfg := d.Config.Links
	var linkCache LinkCache = cache.NewLocal[CachedLink](maxLocalLinks, cfg.CacheTTL)
	var counter ratelimit.Store // nil: counted in the process
	if d.Redis != nil {
		linkCache = cache.NewShared[CachedLink](d.Redis, "link:", cfg.CacheTTL, d.Log)
		counter = d.Redis
	}
	st := NewStore(d.Store).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return EnqueueFoldTx(ctx, d.Jobs, tx) })
	clicks := NewClicks(st, d.Log, cfg.ClickFlushInterval, d.Tracer)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { clicks.Run(ctx); close(done) }()
	if len(cfg.APITokens) == 0 {
		d.Log.Warn("no API_TOKENS: creating and deleting links is refused")
	}
	return &Feature{
		Config:         cfg,
		HTTP:           d.Config.HTTP,
		IdempotencyTTL: d.Config.Idempotency.TTL,
		Log:            d.Log,
		Store:          st,
		Cache:          linkCache,
		Clicks:         clicks,
		CreateLimit:    httpapi.NewRateLimit(d.Log, "create", cfg.CreateRateLimit, cfg.RateLimitWindow, counter),
		Now:            time.Now,
		stop:           func() { stop(); <-done },
	}
}

// maxLocalLinks bounds the in-process redirect cache: past it, the least
// recently used link is dropped.
const maxLocalLinks = 100_000

// Close writes the clicks still counted in memory. Call it once the HTTP
// server has drained and before the database closes, so that the last
// redirects' clicks are kept.
func (f *Feature) Close() error {
	if f.stop != nil {
		f.stop()
	}
	return nil
}

// Mount adds the link shortener's routes to r.
func (f *Feature) Mount(r chi.Router) {
	// The redirect, the hot path, sets its own deadline on a cache miss
	// only; a create request has a smaller body limit. Only authenticated
	// creates spend their address's budget: a request refused with 401
	// costs the service no write.
	httpapi.Get(r, "/{code}", handleRedirect(f.Log, f, f.HTTP.RequestTimeout))
	r.With(httpapi.RequireToken(f.Log, "links", f.Config.APITokens), f.CreateLimit, httpapi.Limits(maxLinkBody, f.HTTP.RequestTimeout)).
		Method(http.MethodPost, "/v1/links", handleCreateLink(f.Log, f, f.HTTP.RequestTimeout))
	r.Group(func(r chi.Router) {
		r.Use(httpapi.Limits(f.HTTP.MaxBodyBytes, f.HTTP.RequestTimeout))
		httpapi.Get(r, "/v1/links", handleListLinks(f.Log, f))
		httpapi.Get(r, "/v1/links/{code}", handleGetLink(f.Log, f))
		r.With(httpapi.RequireToken(f.Log, "links", f.Config.APITokens)).Method(http.MethodDelete, "/v1/links/{code}", handleDeleteLink(f.Log, f))
	})
}

// LinkStore is the storage the link handlers need.
type LinkStore interface {
	// CreateLink inserts l, and records done (if not nil) in the same
	// transaction. A taken code is ErrCodeTaken.
	CreateLink(ctx context.Context, l Link, done *idempotency.Completion) (Link, error)
	// Link returns the link with the code, or ErrNotFound.
	Link(ctx context.Context, code string) (Link, error)
	// ListLinks returns up to limit links with ids above afterID, by id.
	ListLinks(ctx context.Context, afterID int64, limit int) ([]Link, error)
	// DeleteLink deletes the link with the code, or returns ErrNotFound.
	DeleteLink(ctx context.Context, code string) error
	// ClaimIdempotencyKey claims c's key for this request. It returns the
	// stored response when the key was already served with the same
	// request, idempotency.ErrKeyReused when with another, and
	// idempotency.ErrKeyInFlight while another request holds the claim.
	ClaimIdempotencyKey(ctx context.Context, c idempotency.Claim) (*idempotency.Response, error)
	// ReleaseIdempotencyKey drops the unfinished claim the request claimID
	// made, so that the request can be retried after an error that wrote
	// nothing.
	ReleaseIdempotencyKey(ctx context.Context, scope, key, claimID string) error
}

// LinkCache holds links for the redirect path, by code: a cache.Shared or
// cache.Local, whose contract it is. A cache that fails to read or fill
// misses; only Delete reports its failure.
type LinkCache interface {
	Get(ctx context.Context, code string) (CachedLink, bool)
	// Set caches l unless the code is cached or was deleted within the
	// TTL, so that a redirect racing a delete cannot bring the link back.
	Set(ctx context.Context, code string, l CachedLink)
	// Delete keeps the code out of the cache for the TTL. An error means
	// a cached entry may live on.
	Delete(ctx context.Context, code string) error
}

// CachedLink is what the redirect cache holds of a link: what a redirect
// needs, with the id that the click counter takes and the API hides.
type CachedLink struct {
	ID        int64      `json:"id"`
	URL       string     `json:"url"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// ClickCounter counts redirects without a database write per request.
type ClickCounter interface {
	Record(ctx context.Context, linkID int64)
}

// Feature is the link shortener's routes and what they need; New wires
// it, and tests may build one of their own.
type Feature struct {
	Config linkconfig.Config
	// HTTP gives the routes their body limit and deadline.
	HTTP config.HTTP
	// IdempotencyTTL is how long an Idempotency-Key of a create is kept.
	IdempotencyTTL time.Duration
	Log            *slog.Logger
	Store          LinkStore
	Cache          LinkCache
	Clicks         ClickCounter
	// CreateLimit is the rate limit on link creation, keyed by client.
	CreateLimit func(http.Handler) http.Handler
	// Now is the clock; tests set it.
	Now func() time.Time

	stop func() // stops the click counter; see Close
}

// createLinkRequest is what a client may set when creating a link.
type createLinkRequest struct {
	URL       string     `json:"url"`
	Code      string     `json:"code"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// maxLinkBody bounds a create request: the longest URL plus room for the
// other fields and JSON escaping.
const maxLinkBody = 4 * MaxURLLength

// handleCreateLink creates a link. With an Idempotency-Key header, a retry
// of the same request replays the first response instead of creating a
// second link. timeout is the route's request timeout: a claim on a key
// lapses with it.
func handleCreateLink(log *slog.Logger, d *Feature, timeout time.Duration) http.Handler {
	return web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		req, raw, err := web.Decode[createLinkRequest](r)
		if err != nil {
			return err
		}
		now := d.Now()
		if err := validateCreate(req, now); err != nil {
			return err
		}

		key, err := idempotency.Key(r)
		if err != nil {
			return err
		}
		var (
			done   *idempotency.Completion
			lapses time.Time // when the claim on the key lapses by itself
		)
		if key != "" {
			scope := tokenScope(r.Context())
			lapses = time.Now().Add(timeout)
			done = &idempotency.Completion{Scope: scope, Key: key, ClaimID: rand.Text()}
			stored, err := d.Store.ClaimIdempotencyKey(r.Context(), idempotency.Claim{
				Scope: scope, Key: key, ID: done.ClaimID, Hash: idempotency.RequestHash(r.Method, r.URL.Path, raw),
				Now: now, TTL: d.IdempotencyTTL, StaleAfter: timeout,
			})
			switch {
			case errors.Is(err, idempotency.ErrKeyInFlight):
				w.Header().Set("Retry-After", "1")
				return err
			case errors.Is(err, idempotency.ErrKeyReused):
				return err
			case err != nil:
				// The claim may have been stored with only its commit's
				// reply lost: free it, so the retry the answer invites
				// does not find this request's claim in progress.
				return idempotency.Release(w, r, log, releaser(d.Store, done), lapses, err)
			case stored != nil:
				w.Header().Set("Idempotent-Replayed", "true")
				idempotency.Write(w, stored)
				return nil
			}
		}

		resp, err := createLink(r.Context(), d, req, now, done)
		if err != nil && done != nil {
			// Nothing was written: the key is freed for a retry before the
			// answer, so that the answer can say when to retry.
			return idempotency.Release(w, r, log, releaser(d.Store, done), lapses, err)
		}
		if err != nil {
			return err
		}
		idempotency.Write(w, &resp)
		return nil
	})
}

// releaser returns the function that releases done's claim.
func releaser(st LinkStore, done *idempotency.Completion) func(context.Context) error {
	return func(ctx context.Context) error {
		return st.ReleaseIdempotencyKey(ctx, done.Scope, done.Key, done.ClaimID)
	}
}

// createLink inserts the link, generating a code when none was asked for
// and retrying the rare collision, and returns the response to send. The
// response is rendered before the insert so that it is stored with the
// idempotency key in one transaction.
func createLink(ctx context.Context, d *Feature, req createLinkRequest, now time.Time, done *idempotency.Completion) (idempotency.Response, error) {
	for attempt := 0; ; attempt++ {
		// The link as it will be stored, so that the response shows what
		// a read will return.
		l := Link{Code: req.Code, URL: NormalizeURL(req.URL), CreatedAt: StoredTime(now)}
		if req.ExpiresAt != nil {
			exp := StoredTime(*req.ExpiresAt)
			l.ExpiresAt = &exp
		}
		if l.Code == "" {
			l.Code = NewCode()
		}
		body, err := json.Marshal(l)
		if err != nil {
			return idempotency.Response{}, err
		}
		resp := idempotency.Response{Status: http.StatusCreated, ContentType: "application/json",
			Location: "/v1/links/" + l.Code, Body: append(body, '\n')}
		if done != nil {
			done.Response = resp
		}
		_, err = d.Store.CreateLink(ctx, l, done)
		switch {
		case errors.Is(err, ErrCodeTaken) && req.Code == "" && attempt < 3:
			continue
		case errors.Is(err, ErrCodeTaken):
			return idempotency.Response{}, kind.Errorf(kind.Conflict, "code %q is already taken", l.Code)
		case err != nil:
			return idempotency.Response{}, err
		}
		return resp, nil
	}
}

func validateCreate(req createLinkRequest, now time.Time) error {
	if err := ValidateURL(req.URL); err != nil {
		return err
	}
	if req.Code != "" {
		if err := ValidateCode(req.Code); err != nil {
			return err
		}
	}
	if req.ExpiresAt != nil {
		return ValidateExpiry(*req.ExpiresAt, now)
	}
	return nil
}

// handleGetLink returns a link with its click count.
func handleGetLink(log *slog.Logger, d *Feature) http.Handler {
	return web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		code := chi.URLParam(r, "code")
		if err := ValidateCode(code); err != nil {
			return err
		}
		l, err := d.Store.Link(r.Context(), code)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, l)
	})
}

// linkPage is a page of links and the cursor of the next one.
type linkPage struct {
	Links      []Link `json:"links"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// handleListLinks lists links in creation order, a page at a time. The
// cursor is opaque to clients; it holds the last id of the page (keyset
// pagination: no OFFSET, so deep pages cost what the first one does).
func handleListLinks(log *slog.Logger, d *Feature) http.Handler {
	return web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		// url.Values drops a pair it cannot decode, which would turn a
		// mangled cursor into the first page: refuse instead.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return kind.Errorf(kind.Invalid, "query string is not valid URL encoding")
		}
		for _, name := range []string{"limit", "cursor"} {
			if len(q[name]) > 1 {
				return kind.Errorf(kind.Invalid, "%s: given more than once", name)
			}
		}
		limit := 20
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > d.Config.MaxPageSize {
				return kind.Errorf(kind.Invalid, "limit: must be a whole number from 1 to %d", d.Config.MaxPageSize)
			}
			limit = n
		}
		var after int64
		if s := q.Get("cursor"); s != "" {
			if after, err = decodeCursor(s); err != nil {
				return kind.Errorf(kind.Invalid, "cursor: not a cursor this service issued")
			}
		}
		// One more than the page tells whether a next page exists.
		found, err := d.Store.ListLinks(r.Context(), after, limit+1)
		if err != nil {
			return err
		}
		page := linkPage{Links: found}
		if len(found) > limit {
			page.Links = found[:limit]
			page.NextCursor = encodeCursor(found[limit-1].ID)
		}
		if page.Links == nil {
			page.Links = []Link{}
		}
		return web.JSON(w, http.StatusOK, page)
	})
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(b), "id:")
	if !ok {
		return 0, errors.New("bad cursor")
	}
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil || id < 0 {
		return 0, errors.New("bad cursor")
	}
	return id, nil
}

// handleDeleteLink deletes a link. The code is evicted from the redirect
// cache first: when that fails (Redis unreachable), nothing is deleted and
// the client gets 503, since a 204 while a cached entry lives on would be
// a deleted link that still redirects.
func handleDeleteLink(log *slog.Logger, d *Feature) http.Handler {
	return web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		code := chi.URLParam(r, "code")
		if err := ValidateCode(code); err != nil {
			return err
		}
		if err := d.Cache.Delete(r.Context(), code); err != nil {
			return kind.Wrap(kind.Unavailable, "the redirect cache is unavailable, so nothing was deleted; try again shortly", err)
		}
		if err := d.Store.DeleteLink(r.Context(), code); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleRedirect is the hot path: it answers from the cache when it can,
// and counts the click in memory, never writing to the database itself.
// Only a cache miss waits on a backing service, so only a miss pays for a
// deadline.
func handleRedirect(log *slog.Logger, d *Feature, timeout time.Duration) http.Handler {
	return web.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		code := chi.URLParam(r, "code")
		if ValidateCode(code) != nil {
			return ErrNotFound // no such code can exist
		}
		l, ok := d.Cache.Get(r.Context(), code)
		if !ok {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			stored, err := d.Store.Link(ctx, code)
			if err != nil {
				return err
			}
			l = CachedLink{ID: stored.ID, URL: stored.URL, ExpiresAt: stored.ExpiresAt}
			d.Cache.Set(ctx, code, l)
		}
		// Most links never expire: the clock is read for those that do.
		if l.ExpiresAt != nil && (Link{ExpiresAt: l.ExpiresAt}).Expired(d.Now()) {
			return errExpired
		}
		if r.Method != http.MethodHead { // a HEAD checks the link; it is no visit
			d.Clicks.Record(r.Context(), l.ID)
		}
		w.Header()["Location"] = []string{l.URL}
		w.Header()["Cache-Control"] = privateNoCache
		w.WriteHeader(http.StatusFound)
		return nil
	})
}

// errExpired answers a redirect to a link past its expiry.
var errExpired = kind.New(kind.Gone, "this link has expired")

var privateNoCache = []string{"private, no-cache"}

// tokenScope is the idempotency scope of the request's caller: the token
// httpapi.RequireToken admitted, named without revealing it.
func tokenScope(ctx context.Context) string {
	return web.Caller(ctx)
}
