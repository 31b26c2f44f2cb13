package fleet

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReport draws the table and the plot of a made-up run: the PNG
// decodes, and the table names every phase and an outage's failures.
func TestReport(t *testing.T) {
	t0 := time.Now()
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	r := &runResult{name: "made up", rate: 10, t0: t0, loadEnd: at(20), releaseRows: -1,
		phases:   []phase{{"warm-up", at(0), at(5)}, {"postgres restart", at(5), at(12)}, {"cool-down", at(12), at(20)}},
		pgOutage: window{at(6), at(8)},
	}
	for i := range 200 {
		s := float64(i) / 10
		rec := record{op: opRead, start: at(s), dur: time.Millisecond, status: 200, ok: true}
		if s >= 6 && s < 9 {
			rec = record{op: opRead, start: at(s), dur: time.Millisecond, status: 503, retryAfter: true}
		}
		r.records = append(r.records, rec)
	}
	r.records = append(r.records, record{op: opCreate, start: at(15), dur: time.Millisecond, err: "connection reset"})
	var b bytes.Buffer
	r.writeTable(&b)
	for _, want := range []string{"warm-up", "postgres restart", "cool-down", "Postgres outage", "failures seen from 6.0s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if got := r.failures(); len(got) != 1 || !strings.Contains(got[0], "cool-down: 1 × create connection reset") {
		t.Errorf("failures() = %q, want only the connection reset in the cool-down", got)
	}
	path := filepath.Join(t.TempDir(), "fleet.png")
	if err := r.writePlot(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("the plot is no PNG: %v", err)
	}
}
