package fleet

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// outcome sorts a request into the table's columns.
func outcome(rec record) string {
	switch {
	case rec.ok:
		return "ok"
	case rec.status == 503 && rec.lb:
		return "lb503"
	case rec.status == 503 && rec.retryAfter:
		return "503ra"
	}
	return "other"
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[int(math.Ceil(q*float64(len(ds))))-1]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// writeTable writes the run's table: requests by outcome per phase, with
// latency, then the outage windows, clicks, creates, the rate limit,
// deletes, stops and memory.
func (r *runResult) writeTable(w io.Writer) {
	at := func(t time.Time) string { return fmt.Sprintf("%.1fs", t.Sub(r.t0).Seconds()) }
	fmt.Fprintf(w, "fleet run %q: %d req/s offered for %.0fs, %d requests (%d ticks skipped: too many in flight)\n\n",
		r.name, r.rate, r.loadEnd.Sub(r.t0).Seconds(), len(r.records), r.skipped)
	fmt.Fprintf(w, "%-28s %7s %7s %8s %8s %7s %7s %6s %9s %9s\n", "phase", "from", "to", "requests", "ok", "503+RA", "LB 503", "other", "p50", "p99")
	phases := append(slices.Clone(r.phases), phase{name: "whole run", start: r.t0, end: r.loadEnd})
	for _, p := range phases {
		counts := map[string]int{}
		var lat []time.Duration
		n := 0
		for _, rec := range r.records {
			if rec.start.Before(p.start) || !rec.start.Before(p.end) {
				continue
			}
			n++
			counts[outcome(rec)]++
			lat = append(lat, rec.dur)
		}
		fmt.Fprintf(w, "%-28s %7s %7s %8d %8d %7d %7d %6d %9s %9s\n", p.name, at(p.start), at(p.end), n,
			counts["ok"], counts["503ra"], counts["lb503"], counts["other"], ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)))
	}
	fmt.Fprintln(w)
	if o := r.pgOutage; o.set() {
		var first, last time.Time
		for _, rec := range r.records {
			if rec.ok || !rec.start.Add(rec.dur).After(o.start) || !rec.start.Before(o.end.Add(pgBound)) {
				continue
			}
			if first.IsZero() || rec.start.Before(first) {
				first = rec.start
			}
			if rec.start.After(last) {
				last = rec.start
			}
		}
		span := "none"
		if !first.IsZero() {
			span = fmt.Sprintf("from %s to %s, %.1fs after Postgres answered again", at(first), at(last), last.Sub(o.end).Seconds())
		}
		fmt.Fprintf(w, "Postgres outage: stopped at %s, answering again at %s (%.1fs down); failures allowed until %s (bound %v); failures seen %s\n",
			at(o.start), at(o.end), o.end.Sub(o.start).Seconds(), at(o.end.Add(pgBound)), pgBound, span)
	}
	if r.redisOutage.set() {
		refused := 0
		for _, rec := range r.records {
			if !rec.ok && rec.op == opDelete && r.allowed(rec) {
				refused++
			}
		}
		fmt.Fprintf(w, "Redis outage: killed at %s, answering again at %s (%.1fs); deletes refused with 503 + Retry-After: %d (allowed until %s, bound %v)\n",
			at(r.redisOutage.start), at(r.redisOutage.end), r.redisOutage.end.Sub(r.redisOutage.start).Seconds(), refused, at(r.redisOutage.end.Add(redisBound)), redisBound)
	}
	fmt.Fprintf(w, "clicks: %d redirects answered 302, %d counted, %d log rows unfolded, read %.1fs after the load ended\n",
		r.clicksSent, r.clicksCounted, r.clicksPending, r.clicksSettled.Seconds())
	fmt.Fprintf(w, "creates: %d logical, %d answered 201, %d replays or retries answered 201 with the same code; %d problems\n",
		r.creates, r.ok201, r.replays, len(r.createChecks))
	if b := r.budget; b != nil {
		var servers []string
		for s, n := range b.servers {
			if s == "" {
				s = "haproxy"
			}
			servers = append(servers, fmt.Sprintf("%s %d", s, n))
		}
		sort.Strings(servers)
		over := 0
		for _, n := range b.allowed {
			over = max(over, n-b.limit)
		}
		fmt.Fprintf(w, "rate limit: budget %d per %v; %d clients at once each sent %d creates, 6 at a time, answered by %s: allowed %v (largest overshoot %d), %d refused with 429, %d other\n",
			b.limit, rateWindow, len(b.allowed), b.each, strings.Join(servers, ", "), b.allowed, over, b.limited, b.other)
	}
	fmt.Fprintf(w, "deletes: %d answered 204; %d replica answers right after, %d still redirecting; %d never settled\n",
		r.del.deletes, r.del.checks, r.del.stale, r.del.unsettle)
	if r.releaseRows >= 0 {
		fmt.Fprintf(w, "release: %d links carry generation 2's new column\n", r.releaseRows)
	}
	fmt.Fprintf(w, "\n%-26s %-8s %-28s %8s %s\n", "stopped", "signal", "exit", "took", "HAProxy stopped routing after")
	for _, s := range r.stops {
		exit := "0"
		if s.err != nil {
			exit = s.err.Error()
		}
		down := "-"
		if s.web {
			down = "still routing at exit"
			if s.lbDownAt >= 0 {
				down = s.lbDownAt.Round(10 * time.Millisecond).String()
			}
		}
		fmt.Fprintf(w, "%-26s %-8s %-28s %8s %s\n", s.name, s.signal, exit, s.took.Round(10*time.Millisecond), down)
	}
	kinds := map[string]int64{}
	for name, kb := range r.rssPeak {
		k, _, _ := strings.Cut(name, "-")
		k = strings.TrimRight(k, "0123456789")
		kinds[k] = max(kinds[k], kb)
	}
	var mem []string
	for _, k := range []string{"web", "worker", "haproxy", "redis", "postgres"} {
		if kb, ok := kinds[k]; ok {
			mem = append(mem, fmt.Sprintf("%s %.1f", k, float64(kb)/1024))
		}
	}
	fmt.Fprintf(w, "\npeak RSS, MiB (largest process of each kind; postgres: the postmaster): %s\n", strings.Join(mem, ", "))
}

// writePlot draws throughput, p99 latency and failures per second over
// the run, with the phases marked, as a PNG.
func (r *runResult) writePlot(path string) error {
	secs := int(r.loadEnd.Sub(r.t0).Seconds()) // whole seconds: a last, partial one would look like a drop
	okS := make([]float64, secs+1)
	allowedS := make([]float64, secs+1)
	badS := make([]float64, secs+1)
	lat := make([][]time.Duration, secs+1)
	for _, rec := range r.records {
		i := int(rec.start.Sub(r.t0).Seconds())
		if i < 0 || i > secs {
			continue
		}
		switch {
		case rec.ok:
			okS[i]++
		case r.allowed(rec):
			allowedS[i]++
		default:
			badS[i]++
		}
		lat[i] = append(lat[i], rec.dur)
	}
	series := func(v []float64) plotter.XYs {
		xy := make(plotter.XYs, secs)
		for i := range secs {
			xy[i] = plotter.XY{X: float64(i), Y: v[i]}
		}
		return xy
	}
	p99 := make([]float64, secs+1)
	for i := range lat {
		p99[i] = float64(quantile(lat[i], 0.99)) / float64(time.Millisecond)
	}
	type curve struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}
	panels := []struct {
		title, unit string
		curves      []curve
	}{
		{"answered as expected", "requests/s", []curve{{"", series(okS), color.NRGBA{B: 180, A: 255}}}},
		{"p99 latency, by second of the request's start", "ms", []curve{{"", series(p99), color.NRGBA{G: 130, A: 255}}}},
		{"failed", "requests/s", []curve{
			{"503 with Retry-After inside an outage and its bound (allowed)", series(allowedS), color.NRGBA{R: 230, G: 140, A: 255}},
			{"any other failure", series(badS), color.NRGBA{R: 200, A: 255}},
		}},
	}
	rows := make([][]*plot.Plot, len(panels))
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.Y.Label.Text = pn.unit
		p.X.Label.Text = "seconds since the load started (shaded: Postgres, then Redis, down)"
		p.X.Min, p.X.Max = 0, float64(secs)
		p.Y.Min = 0
		ymax := 1.0
		for _, c := range pn.curves {
			for _, v := range c.xy {
				ymax = max(ymax, v.Y)
			}
		}
		p.Y.Max = ymax * 1.15
		for _, w := range []window{r.pgOutage, r.redisOutage} {
			if !w.set() {
				continue
			}
			a, b := w.start.Sub(r.t0).Seconds(), w.end.Sub(r.t0).Seconds()
			band, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: 0}, {X: b, Y: 0}, {X: b, Y: p.Y.Max}, {X: a, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			band.Color = color.NRGBA{R: 255, G: 210, B: 140, A: 110}
			band.LineStyle.Color = nil
			band.LineStyle.Width = 0
			p.Add(band)
		}
		lastX := -10.0
		for j, ph := range r.phases {
			x := ph.start.Sub(r.t0).Seconds()
			mark, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			mark.Color = color.Gray{Y: 120}
			mark.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(mark)
			if i == 0 {
				lx := max(x+0.3, lastX+1.6) // phases a moment long still get a readable label
				lastX = lx
				labels, err := plotter.NewLabels(plotter.XYLabels{
					XYs:    []plotter.XY{{X: lx, Y: p.Y.Max * 0.98}},
					Labels: []string{fmt.Sprintf("%d %s", j+1, ph.name)},
				})
				if err != nil {
					return err
				}
				for k := range labels.TextStyle {
					labels.TextStyle[k].Rotation = -math.Pi / 2
					labels.TextStyle[k].Font.Size = vg.Points(7)
				}
				p.Add(labels)
			}
		}
		for _, c := range pn.curves {
			line, err := plotter.NewLine(c.xy)
			if err != nil {
				return err
			}
			line.Color = c.c
			line.Width = vg.Points(1.2)
			p.Add(line)
			if c.name != "" {
				p.Legend.Add(c.name, line)
			}
		}
		p.Legend.Top = true
		rows[i] = []*plot.Plot{p}
	}
	img := vgimg.New(vg.Points(900), vg.Points(720))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(8)}
	canvases := plot.Align(rows, tiles, dc)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
