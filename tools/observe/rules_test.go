package observe

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// The dashboards and rules the template ships.
var (
	ruleFiles      = []string{"../../deploy/prometheus/alerts.yaml"}
	dashboardFiles = []string{"../../deploy/grafana/service.json"}
)

// grafanaMacros are the variables Grafana replaces in a query before
// Prometheus sees it, with a value of the kind Grafana puts there.
var grafanaMacros = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// query is one PromQL expression and where it comes from.
type query struct {
	where string
	expr  string
}

// TestDashboardsAndAlertsNameExportedMetrics parses every query of the
// dashboards and alert rules with Prometheus' own parsers, and checks
// that each names only metrics the server and the worker export, as
// scraped from the running processes after they served requests and
// worked jobs, or series that the rules themselves record.
func TestDashboardsAndAlertsNameExportedMetrics(t *testing.T) {
	promql := parser.NewParser(parser.Options{})
	var queries []query
	recorded := map[string]bool{}
	for _, f := range ruleFiles {
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
		for _, err := range errs {
			t.Errorf("rules: %v", err)
		}
		if groups == nil {
			continue
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = true
					queries = append(queries, query{filepath.Base(f) + " record " + r.Record, r.Expr})
					continue
				}
				queries = append(queries, query{filepath.Base(f) + " alert " + r.Alert, r.Expr})
				if s := r.Labels["severity"]; s != "page" && s != "ticket" {
					t.Errorf("alert %s: severity %q, want page or ticket", r.Alert, s)
				}
				if r.Annotations["summary"] == "" {
					t.Errorf("alert %s has no summary", r.Alert)
				}
			}
		}
	}
	for _, f := range dashboardFiles {
		queries = append(queries, dashboardQueries(t, f)...)
	}
	if len(queries) < 20 {
		t.Fatalf("found %d queries; the files were not read as expected", len(queries))
	}

	exported := scrapeRunning(t)
	for _, q := range queries {
		expr, err := promql.ParseExpr(grafanaMacros.Replace(q.expr))
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		for _, name := range metricNames(expr) {
			if !exported[name] && !recorded[name] {
				t.Errorf("%s: metric %s is exported by neither process nor recorded by a rule", q.where, name)
			}
		}
	}
}

// dashboardQueries returns every target expression of a Grafana
// dashboard's panels, rows' panels included.
func dashboardQueries(t *testing.T, file string) []query {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string  `json:"title"`
		Panels  []panel `json:"panels"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	}
	var d struct {
		Title  string  `json:"title"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s: panel %q has a target without a query", file, p.Title)
				}
				out = append(out, query{filepath.Base(file) + " panel " + p.Title, tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// metricNames returns the metric names the selectors of expr name.
func metricNames(expr parser.Expr) []string {
	var out []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		out = append(out, name)
		return nil
	})
	return out
}

// scrapeRunning runs the server and the worker on Postgres and Redis,
// makes them serve requests and work a job so that every series they can
// export exists, and returns the names of the series on their /metrics.
func scrapeRunning(t *testing.T) map[string]bool {
	t.Helper()
	env := backing(t)
	srv := start(t, "server", env)
	wrk := start(t, "worker", env)
	status, body := do(t, "POST", srv.public+"/v1/links", `{"url":"https://example.com/scraped","code":"scraped"}`,
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"})
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s, want 201", status, body)
	}
	if status, _ := do(t, "GET", srv.public+"/scraped", "", nil); status != http.StatusFound {
		t.Fatalf("redirect = %d, want 302", status)
	}
	// The click's fold job has run once the worker counts an outcome.
	if !eventually(20*time.Second, func() bool {
		return strings.Contains(scrape(t, wrk.admin), `jobs_total{kind="fold_clicks",outcome="completed"}`)
	}) {
		t.Fatal("the worker ran no fold job within 20s")
	}
	names := map[string]bool{}
	for _, p := range []*process{srv, wrk} {
		for _, line := range strings.Split(scrape(t, p.admin), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if i := strings.IndexAny(line, "{ "); i > 0 {
				names[line[:i]] = true
			}
		}
	}
	var list []string
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("%d series names exported", len(list))
	return names
}

// scrape returns the text exposition of the admin listener at base.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
