package filerules

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// Termination budgets. Kubernetes sends SIGKILL terminationGracePeriodSeconds
// after the pod starts terminating (30 s unless set); Heroku sends it 30 s
// after SIGTERM, and that cannot be changed.
const (
	defaultGrace = 30 * time.Second
	herokuGrace  = 30 * time.Second
	// exitMargin is what the process needs after its shutdown timeout:
	// closing pools, flushing the last log lines.
	exitMargin = 2 * time.Second
)

// settings returns the environment a container sees: the code's defaults,
// then its ConfigMaps and Secrets, then its env entries.
func settings(src *goSource, r *rendering, ct *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, v := range src.Env {
		if v.Default != "" {
			env[v.Name] = v.Default
		}
	}
	for _, from := range ct.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			data = r.ConfigMaps[from.ConfigMapRef.Name]
		case from.SecretRef != nil:
			data = r.Secrets[from.SecretRef.Name]
		}
		for k, v := range data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range ct.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			if v, ok := r.ConfigMaps[e.ValueFrom.ConfigMapKeyRef.Name][e.ValueFrom.ConfigMapKeyRef.Key]; ok {
				env[e.Name] = v
			}
		}
	}
	return env
}

// budgetSettings returns the code's settings that delay the exit after
// SIGTERM: the drain delay and the shutdown timeout, by name.
func budgetSettings(src *goSource) []string {
	var names []string
	for _, v := range src.Env {
		if _, err := time.ParseDuration(v.Default); err != nil {
			continue
		}
		if (strings.Contains(v.Name, "DRAIN") || strings.Contains(v.Name, "SHUTDOWN")) && !slices.Contains(names, v.Name) {
			names = append(names, v.Name)
		}
	}
	slices.Sort(names)
	return names
}

// spend adds up the budget settings in env and says how.
func spend(names []string, env map[string]string) (time.Duration, []string) {
	var total time.Duration
	var parts []string
	for _, n := range names {
		d, err := time.ParseDuration(env[n])
		if err != nil {
			continue // III2 and the process itself report a bad value
		}
		total += d
		parts = append(parts, fmt.Sprintf("%s %s", n, d))
	}
	return total, parts
}

// checkShutdown runs IX3: after SIGTERM the process waits out its drain
// delay and its shutdown timeout, and needs a moment to exit, all before
// the platform's SIGKILL.
func checkShutdown(repo *tf.Repo, c *tf.Collector, src *goSource, pf *procfile, renders []*rendering, img *image) {
	names := budgetSettings(src)
	if len(names) == 0 {
		c.NotApplicable("the code has no drain or shutdown duration settings", "IX3")
		return
	}
	if pf != nil && len(pf.Procs) > 0 {
		env := map[string]string{}
		for _, v := range src.Env {
			env[v.Name] = v.Default
		}
		if data := repo.Read("app.json"); data != nil {
			var app appJSON
			if err := json.Unmarshal(data, &app); err == nil {
				for name, raw := range app.Env {
					var e appEnv
					if json.Unmarshal(raw, &e) == nil && e.Value != "" {
						env[name] = e.Value
					}
				}
			}
		}
		if total, parts := spend(names, env); total+exitMargin >= herokuGrace {
			p := pf.Procs[0]
			if web, ok := pf.get("web"); ok {
				p = web
			}
			c.Addf("IX3", "Procfile", p.Line, "%s + %s to exit = %s, not under the %s Heroku allows after SIGTERM",
				strings.Join(parts, " + "), exitMargin, total+exitMargin, herokuGrace)
		}
	}
	mains := mainNames(src)
	for _, r := range renders {
		for _, w := range r.Workloads {
			if !w.longRunning() {
				continue
			}
			spec := &w.Pod.Spec
			grace := defaultGrace
			if spec.TerminationGracePeriodSeconds != nil {
				grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
			}
			for i := range spec.Containers {
				ct := &spec.Containers[i]
				if _, ok := appContainer(spec, ct, mains, img); !ok {
					continue
				}
				total, parts := spend(names, settings(src, r, ct))
				if s := preStopSleep(ct); s > 0 {
					total += s
					parts = append([]string{fmt.Sprintf("preStop sleep %s", s)}, parts...)
				}
				if total+exitMargin >= grace {
					c.Addf("IX3", w.File, w.Line, "%s %s container %s in %s: %s + %s to exit = %s, not under terminationGracePeriodSeconds %s",
						w.Kind, w.Name, ct.Name, r.Dir, strings.Join(parts, " + "), exitMargin, total+exitMargin, grace)
				}
			}
		}
	}
}

// preStopSleep returns how long the container's preStop hook sleeps.
func preStopSleep(ct *corev1.Container) time.Duration {
	if ct.Lifecycle == nil || ct.Lifecycle.PreStop == nil {
		return 0
	}
	h := ct.Lifecycle.PreStop
	if h.Sleep != nil {
		return time.Duration(h.Sleep.Seconds) * time.Second
	}
	if h.Exec != nil {
		f := strings.Fields(strings.Join(h.Exec.Command, " "))
		if i := slices.Index(f, "sleep"); i >= 0 && i+1 < len(f) {
			if n, err := strconv.ParseFloat(f[i+1], 64); err == nil {
				return time.Duration(n * float64(time.Second))
			}
		}
	}
	return 0
}

// listener is a port a process serves, and the setting that makes it.
type listener struct {
	setting string
	port    int32
}

// listeners returns the ports the process serves on the pod's address:
// PORT, and the port of every *_ADDR setting not bound to loopback. It
// also returns the loopback ones, which the kubelet cannot reach.
func listeners(env map[string]string) (served, loopback []listener) {
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range env {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		v := env[name]
		switch {
		case name == "PORT":
			if p, err := strconv.ParseInt(v, 10, 32); err == nil {
				served = append(served, listener{name, int32(p)})
			}
		case strings.HasSuffix(name, "_ADDR"):
			host, port, err := net.SplitHostPort(v)
			p, perr := strconv.ParseInt(port, 10, 32)
			if err != nil || perr != nil {
				continue
			}
			if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
				loopback = append(loopback, listener{name, int32(p)})
			} else {
				served = append(served, listener{name, int32(p)})
			}
		}
	}
	return served, loopback
}

// probePort resolves a probe's port, by number or by container port name.
func probePort(ct *corev1.Container, pr *corev1.Probe) (intstr.IntOrString, int32, bool) {
	var port intstr.IntOrString
	switch {
	case pr.HTTPGet != nil:
		port = pr.HTTPGet.Port
	case pr.TCPSocket != nil:
		port = pr.TCPSocket.Port
	case pr.GRPC != nil:
		return intstr.FromInt32(pr.GRPC.Port), pr.GRPC.Port, true
	default:
		return port, 0, false
	}
	if port.Type == intstr.Int {
		return port, port.IntVal, true
	}
	for _, cp := range ct.Ports {
		if cp.Name == port.StrVal {
			return port, cp.ContainerPort, true
		}
	}
	return port, 0, false // VII3 reports a name the container does not declare
}

// checkProbePorts runs VII4: every probe of a container of the codebase
// aims at a port the process serves, by the settings it runs with.
func checkProbePorts(c *tf.Collector, src *goSource, renders []*rendering, img *image) {
	if len(renders) == 0 {
		c.NotApplicable("no kustomization", "VII4")
		return
	}
	mains := mainNames(src)
	for _, r := range renders {
		for _, w := range r.Workloads {
			spec := &w.Pod.Spec
			for i := range spec.Containers {
				ct := &spec.Containers[i]
				if _, ok := appContainer(spec, ct, mains, img); !ok {
					continue
				}
				served, loopback := listeners(settings(src, r, ct))
				if len(served)+len(loopback) == 0 {
					continue // the code has no port settings to compare with
				}
				for _, pr := range []struct {
					name  string
					probe *corev1.Probe
				}{{"startupProbe", ct.StartupProbe}, {"livenessProbe", ct.LivenessProbe}, {"readinessProbe", ct.ReadinessProbe}} {
					if pr.probe == nil {
						continue
					}
					ref, port, ok := probePort(ct, pr.probe)
					if !ok || slices.ContainsFunc(served, func(l listener) bool { return l.port == port }) {
						continue
					}
					var serve []string
					for _, l := range served {
						serve = append(serve, fmt.Sprintf("%s %d", l.setting, l.port))
					}
					at := ref.String()
					if ref.Type == intstr.String {
						at = fmt.Sprintf("%s (%d)", ref.StrVal, port)
					}
					msg := fmt.Sprintf("%s %s container %s in %s: %s port %s is not one the process serves (it serves %s)",
						w.Kind, w.Name, ct.Name, r.Dir, pr.name, at, strings.Join(serve, ", "))
					if i := slices.IndexFunc(loopback, func(l listener) bool { return l.port == port }); i >= 0 {
						msg += fmt.Sprintf("; %s binds it to loopback, which the kubelet cannot reach", loopback[i].setting)
					}
					c.Addf("VII4", w.File, w.Line, "%s", msg)
				}
			}
		}
	}
}
