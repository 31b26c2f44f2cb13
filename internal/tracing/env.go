package tracing

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// The OTLP exporters read each of their settings from a variable named
// OTEL_EXPORTER_OTLP_TRACES_<SETTING>, or, when that is unset, from
// OTEL_EXPORTER_OTLP_<SETTING>.
const (
	otlpPrefix   = "OTEL_EXPORTER_OTLP_"
	tracesPrefix = "OTEL_EXPORTER_OTLP_TRACES_"
)

// intVars are the SDK's integer settings, the batch span processor's
// and the span limits, with the values each accepts. The SDK reads them
// untrimmed and, on anything strconv.Atoi refuses, falls back to its
// default silently. A negative limit means no limit.
var intVars = []struct {
	name string
	min  int // 1: positive; 0: not negative; -1: any
}{
	{"OTEL_BSP_SCHEDULE_DELAY", 0},
	{"OTEL_BSP_EXPORT_TIMEOUT", 1},
	{"OTEL_BSP_MAX_QUEUE_SIZE", 1},
	{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1},
	{"OTEL_ATTRIBUTE_COUNT_LIMIT", -1},
	{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", -1},
	{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", -1},
	{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", -1},
	{"OTEL_SPAN_EVENT_COUNT_LIMIT", -1},
	{"OTEL_SPAN_LINK_COUNT_LIMIT", -1},
	{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", -1},
	{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", -1},
}

// The samplers OTEL_TRACES_SAMPLER may name: those the Go SDK has.
var samplers = map[string]bool{
	"always_on": false, "always_off": false, "parentbased_always_on": false, "parentbased_always_off": false,
	"traceidratio": true, "parentbased_traceidratio": true, // true: takes OTEL_TRACES_SAMPLER_ARG
}

// checkEnv validates every variable the SDK and its OTLP exporters read
// once tracing is on, so that a bad value stops start-up with an error
// naming the variable. Left to the SDK, a bad value is ignored, or logged
// with the value itself (which, for headers, holds credentials), or
// panics (a negative queue size). No error here quotes a value.
func checkEnv(get func(string) (string, bool)) error {
	var errs []error
	bad := func(name, want string) { errs = append(errs, fmt.Errorf("%s must be %s", name, want)) }

	ints := map[string]int{}
	for _, v := range intVars {
		raw, ok := get(v.name)
		if !ok || raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil:
			bad(v.name, "a whole number")
		case v.min == 1 && n < 1:
			bad(v.name, "positive")
		case v.min == 0 && n < 0:
			bad(v.name, "zero or more")
		default:
			ints[v.name] = n
		}
	}
	queue, ok := ints["OTEL_BSP_MAX_QUEUE_SIZE"]
	if !ok {
		queue = 2048 // the SDK's default
	}
	if batch, ok := ints["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"]; ok && batch > queue {
		bad("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "at most OTEL_BSP_MAX_QUEUE_SIZE")
	}

	trimmed := func(name string) string { v, _ := get(name); return strings.TrimSpace(v) }
	sampler := strings.ToLower(trimmed("OTEL_TRACES_SAMPLER"))
	if takesArg, ok := samplers[sampler]; sampler != "" && !ok {
		bad("OTEL_TRACES_SAMPLER", "one of always_on, always_off, traceidratio, parentbased_always_on, "+
			"parentbased_always_off, parentbased_traceidratio")
	} else if arg := trimmed("OTEL_TRACES_SAMPLER_ARG"); arg != "" && (takesArg || sampler == "") {
		// Without a sampler the argument is unused; checked all the same,
		// so that it is right when a ratio sampler is named.
		if r, err := strconv.ParseFloat(arg, 64); err != nil || !(r >= 0 && r <= 1) {
			bad("OTEL_TRACES_SAMPLER_ARG", "a ratio from 0 to 1")
		}
	}

	for _, p := range strings.Split(trimmed("OTEL_PROPAGATORS"), ",") {
		switch strings.TrimSpace(p) {
		case "", "tracecontext", "baggage", "none":
		default:
			bad("OTEL_PROPAGATORS", "a list of tracecontext, baggage or none")
		}
	}

	for _, prefix := range []string{otlpPrefix, tracesPrefix} {
		errs = append(errs, checkOTLP(prefix, trimmed)...)
	}
	return errors.Join(errs...)
}

// checkOTLP validates the exporter's settings of one prefix, read trimmed
// as the exporters read them.
func checkOTLP(prefix string, get func(string) string) []error {
	var errs []error
	bad := func(name, want string) { errs = append(errs, fmt.Errorf("%s%s must be %s", prefix, name, want)) }

	if v := get(prefix + "ENDPOINT"); v != "" {
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad("ENDPOINT", "a URL such as http://collector:4318")
		}
	}
	if v := get(prefix + "PROTOCOL"); v != "" && v != ProtocolGRPC && v != ProtocolHTTP {
		bad("PROTOCOL", "grpc or http/protobuf")
	}
	if v := get(prefix + "HEADERS"); v != "" {
		if err := checkHeaders(v); err != nil {
			bad("HEADERS", "a list of key=value pairs, values URL-encoded ("+err.Error()+")")
		}
	}
	if v := get(prefix + "TIMEOUT"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n <= 0 {
			bad("TIMEOUT", "a positive whole number of milliseconds")
		}
	}
	if v := get(prefix + "COMPRESSION"); v != "" && v != "gzip" && v != "none" {
		bad("COMPRESSION", "gzip or none")
	}
	if v := get(prefix + "INSECURE"); v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		bad("INSECURE", "true or false")
	}
	if v := get(prefix + "CERTIFICATE"); v != "" {
		b, err := os.ReadFile(v)
		if err != nil || !x509.NewCertPool().AppendCertsFromPEM(b) {
			bad("CERTIFICATE", "a readable file of PEM certificates")
		}
	}
	cert, key := get(prefix+"CLIENT_CERTIFICATE"), get(prefix+"CLIENT_KEY")
	switch {
	case cert == "" && key == "":
	case cert == "" || key == "":
		errs = append(errs, fmt.Errorf("%sCLIENT_CERTIFICATE and %sCLIENT_KEY must be set together", prefix, prefix))
	default:
		c, errC := os.ReadFile(cert)
		k, errK := os.ReadFile(key)
		if errC != nil || errK != nil {
			errs = append(errs, fmt.Errorf("%sCLIENT_CERTIFICATE and %sCLIENT_KEY must be readable files", prefix, prefix))
		} else if _, err := tls.X509KeyPair(c, k); err != nil {
			errs = append(errs, fmt.Errorf("%sCLIENT_CERTIFICATE and %sCLIENT_KEY must be a PEM certificate and its key", prefix, prefix))
		}
	}
	return errs
}

// checkHeaders parses an OTLP headers value as the exporters do, and
// says what is wrong with it without quoting any part of it.
func checkHeaders(v string) error {
	for i, pair := range strings.Split(v, ",") {
		name, value, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			return fmt.Errorf("entry %d has no '='", i+1)
		case !validHeaderName(strings.TrimSpace(name)):
			return fmt.Errorf("entry %d has no valid header name", i+1)
		}
		if _, err := url.PathUnescape(value); err != nil {
			return fmt.Errorf("entry %d has a bad %%-escape", i+1)
		}
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110), as the
// exporters require of a header's name.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		letterOrDigit := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !letterOrDigit && strings.IndexByte("!#$%&'*+-.^_`|~", c) < 0 {
			return false
		}
	}
	return true
}
