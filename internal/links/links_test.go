package links

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dozen-go/dozen/internal/kind"
)

func TestValidateURL(t *testing.T) {
	tests := []struct {
		in     string
		wantOK bool
	}{
		{"https://example.com", true},
		{"http://example.com/a/b?c=d#e", true},
		{"https://example.com:8443/path", true},
		{"https://[2001:db8::1]/x", true},
		{"https://xn--bcher-kva.example/", true},
		{"", false},
		{"example.com", false},
		{"/relative/path", false},
		{"//example.com/protocol-relative", false},
		{"javascript:alert(1)", false},
		{"JAVASCRIPT:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"file:///etc/passwd", false},
		{"ftp://example.com/", false},
		{"https://user:pass@example.com/", false},
		{"https://user@example.com/", false},
		{"https:///no-host", false},
		{"https://exa mple.com/", false},
		{"https://example.com/\r\nSet-Cookie: x", false},
		{"https://example.com/" + strings.Repeat("a", MaxURLLength), false},
		{"http://%41:8080/", false},
		{"https://example.com/caf\u00e9?q=\u00fc#\u00df", true},
		{"https://example.com:1/", true},
		{"https://example.com:65535/", true},
		{"https://example.com:0/", false},
		{"https://example.com:65536/", false},
		{"https://example.com:99999999999999999999/", false},
		{"https://example.com/\x00", false},
		{"https://example.com/\x1b[2J", false},
		{"https://example.com/\x7f", false},
		{"https://example.com/\u0085", false},    // C1 next line
		{"https://example.com/\u009b31m", false}, // C1 control sequence introducer
		{"https://example.com/\u202egnp.exe", false},
		{"https://example.com/\u202a", false},
		{"https://example.com/\u2066x\u2069", false},
		{"https://example.com/\u2028", false},
		{"https://example.com/\u2029", false},
		{"https://example.com/\ufeff", false},
		{"\ufeffhttps://example.com/", false},
		{"https://example.com/\xff", false},
		{"https://example.com/\xc3", false},
		{"https://b\u00fccher.example/", false},
		{"https://example.com/" + strings.Repeat("\u00e9", 700), false}, // 1400 bytes, 4200 encoded
	}
	for _, tt := range tests {
		err := ValidateURL(tt.in)
		if (err == nil) != tt.wantOK {
			t.Errorf("ValidateURL(%q) = %v, want ok=%v", tt.in, err, tt.wantOK)
		}
		if err != nil && (kind.Of(err) != kind.Invalid || !strings.HasPrefix(kind.Detail(err), "url: ")) {
			t.Errorf("ValidateURL(%q) error = %v, want an Invalid error for field url", tt.in, err)
		}
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a?b=c#d", "https://example.com/a?b=c#d"},
		{"https://example.com/caf\u00e9", "https://example.com/caf%C3%A9"},
		{"https://example.com/%C3%A9?q=\u00fc", "https://example.com/%C3%A9?q=%C3%BC"},
		{"https://example.com/#\u2603", "https://example.com/#%E2%98%83"},
	}
	for _, tt := range tests {
		if got := NormalizeURL(tt.in); got != tt.want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		at     time.Time
		wantOK bool
	}{
		{now.Add(time.Second), true},
		{now.AddDate(MaxLifetimeYears, 0, 0), true},
		{now, false},
		{now.Add(-time.Hour), false},
		{now.AddDate(MaxLifetimeYears, 0, 0).Add(time.Second), false},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -14*3600)), false},
	}
	for _, tt := range tests {
		err := ValidateExpiry(tt.at, now)
		if (err == nil) != tt.wantOK {
			t.Errorf("ValidateExpiry(%v) = %v, want ok=%v", tt.at, err, tt.wantOK)
		}
		if err != nil && (kind.Of(err) != kind.Invalid || !strings.HasPrefix(kind.Detail(err), "expires_at: ")) {
			t.Errorf("ValidateExpiry(%v) error = %v, want an Invalid error for field expires_at", tt.at, err)
		}
	}
}

func TestValidateCode(t *testing.T) {
	tests := []struct {
		in     string
		wantOK bool
	}{
		{"abcd", true},
		{"Go2Docs", true},
		{strings.Repeat("z", MaxCodeLength), true},
		{"abc", false},
		{strings.Repeat("z", MaxCodeLength+1), false},
		{"has space", false},
		{"slash/es", false},
		{"l1O0", false}, // look-alikes are not in the alphabet
		{"café", false},
		{"readyz", false},
		{"LIVEZ", false},
		{"../..", false},
	}
	for _, tt := range tests {
		if err := ValidateCode(tt.in); (err == nil) != tt.wantOK {
			t.Errorf("ValidateCode(%q) = %v, want ok=%v", tt.in, err, tt.wantOK)
		}
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		c := NewCode()
		if err := ValidateCode(c); err != nil {
			t.Fatalf("NewCode() = %q, invalid: %v", c, err)
		}
		if seen[c] {
			t.Fatalf("NewCode() repeated %q within 2000 codes", c)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	// 16000 characters over 57 symbols: about 281 each. A symbol that is
	// never or hardly ever drawn means a broken mapping.
	for _, r := range Alphabet {
		if counts[r] < 150 {
			t.Errorf("NewCode drew %q %d times in 16000 characters, want about 281", r, counts[r])
		}
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	tests := []struct {
		expires *time.Time
		want    bool
	}{{nil, false}, {&past, true}, {&now, true}, {&future, false}}
	for _, tt := range tests {
		if got := (Link{ExpiresAt: tt.expires}).Expired(now); got != tt.want {
			t.Errorf("Expired(expires %v) = %v, want %v", tt.expires, got, tt.want)
		}
	}
}

func FuzzValidateURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateURL(s) != nil {
			return
		}
		// Whatever passes must be safe to put in a Location header, and
		// read as what it is.
		lower := strings.ToLower(s)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			t.Fatalf("ValidateURL(%q) accepted a non-http(s) URL", s)
		}
		if strings.ContainsFunc(s, deceptive) || !utf8.ValidString(s) {
			t.Fatalf("ValidateURL(%q) accepted an unsafe URL", s)
		}
		n := NormalizeURL(s)
		if len(n) > MaxURLLength || strings.ContainsFunc(n, func(r rune) bool { return r >= utf8.RuneSelf }) {
			t.Fatalf("NormalizeURL(%q) = %q, want ASCII of at most %d bytes", s, n, MaxURLLength)
		}
		if err := ValidateURL(n); err != nil {
			t.Fatalf("ValidateURL(NormalizeURL(%q)) = %v, want the normal form valid too", s, err)
		}
	})
}

func FuzzValidateCode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateCode(s) != nil {
			return
		}
		if len(s) < MinCodeLength || len(s) > MaxCodeLength || strings.ContainsAny(s, "/?#%. ") {
			t.Fatalf("ValidateCode(%q) accepted an unsafe code", s)
		}
	})
}
