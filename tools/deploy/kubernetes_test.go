package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/tools/internal/proctest"
)

const kubeDir = "deploy/kubernetes"

// monitoringNamespace is the namespace allowed to scrape the metrics port.
const monitoringNamespace = "monitoring"

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// that the component uses.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendering is one overlay's output, decoded into the API types.
type rendering struct {
	deployments []appsv1.Deployment
	jobs        []batchv1.Job
	services    []corev1.Service
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	pdbs        []policyv1.PodDisruptionBudget
	hpas        []autoscalingv2.HorizontalPodAutoscaler
	policies    []networkingv1.NetworkPolicy
	monitors    []serviceMonitor

	// probes are the requests Kubernetes and Prometheus will make of the
	// processes, found while checking, each with where it was found.
	probes map[probe]string
}

// probe is an HTTP GET of a path on one of a process's two listeners.
type probe struct {
	cmd      string // the process
	listener string // PORT or ADMIN_ADDR
	path     string
}

// workload is a pod template and what runs it.
type workload struct {
	kind, name string
	pod        *corev1.PodTemplateSpec
}

func (r *rendering) workloads() []workload {
	var ws []workload
	for i := range r.deployments {
		ws = append(ws, workload{"Deployment", r.deployments[i].Name, &r.deployments[i].Spec.Template})
	}
	for i := range r.jobs {
		ws = append(ws, workload{"Job", r.jobs[i].Name, &r.jobs[i].Spec.Template})
	}
	return ws
}

// render runs kustomize on dir of fsys and decodes every object strictly:
// a field the API type does not have fails the test.
func render(t *testing.T, fsys filesys.FileSystem, dir string) *rendering {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	r := &rendering{probes: map[probe]string{}}
	for _, res := range m.Resources() {
		b, err := res.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		gvk := res.GetApiVersion() + " " + res.GetKind()
		var target any
		switch gvk {
		case "apps/v1 Deployment":
			target = appendNew(&r.deployments)
		case "batch/v1 Job":
			target = appendNew(&r.jobs)
		case "v1 Service":
			target = appendNew(&r.services)
		case "v1 ConfigMap":
			target = appendNew(&r.configMaps)
		case "v1 Secret":
			target = appendNew(&r.secrets)
		case "policy/v1 PodDisruptionBudget":
			target = appendNew(&r.pdbs)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			target = appendNew(&r.hpas)
		case "networking.k8s.io/v1 NetworkPolicy":
			target = appendNew(&r.policies)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			target = appendNew(&r.monitors)
		default:
			t.Errorf("%s: %s %s has no check here: add its type to render", dir, gvk, res.GetName())
			continue
		}
		if err := decodeStrict(b, target); err != nil {
			t.Errorf("%s: %s %s: %v", dir, gvk, res.GetName(), err)
		}
	}
	return r
}

// appendNew grows *s by one zero element and returns a pointer to it.
func appendNew[T any](s *[]T) *T {
	*s = append(*s, *new(T))
	return &(*s)[len(*s)-1]
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// overlays lists the directories under deploy/kubernetes/overlays.
func overlays(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, kubeDir, "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	for _, want := range []string{"dev", "prod"} {
		if !slices.Contains(dirs, want) {
			t.Errorf("no overlay %s in %s/overlays", want, kubeDir)
		}
	}
	return dirs
}

// TestKubernetesOverlays renders every overlay, and production with the
// opt-in ServiceMonitor, checks each rendering, then starts the processes
// and checks that every probe and scrape path answers 200 on its port.
func TestKubernetesOverlays(t *testing.T) {
	probes := map[probe]string{}
	for _, overlay := range overlays(t) {
		t.Run(overlay, func(t *testing.T) {
			dir := filepath.Join(root, kubeDir, "overlays", overlay)
			r := render(t, filesys.MakeFsOnDisk(), dir)
			checkRendering(t, r)
			maps.Copy(probes, r.probes)
		})
	}
	t.Run("prod+servicemonitor", func(t *testing.T) {
		r := renderWithServiceMonitor(t)
		checkRendering(t, r)
		checkServiceMonitor(t, r)
		maps.Copy(probes, r.probes)
	})
	t.Run("probes answer", func(t *testing.T) {
		checkProbesAnswer(t, probes)
	})
}

// renderWithServiceMonitor renders the production overlay with the opt-in
// ServiceMonitor component added before the app's, in memory, as the
// overlay's comment says.
func renderWithServiceMonitor(t *testing.T) *rendering {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	base := filepath.Join(root, kubeDir)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		return fsys.WriteFile(path.Join("/k", filepath.ToSlash(rel)), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	prod := "/k/overlays/prod/kustomization.yaml"
	k, err := fsys.ReadFile(prod)
	if err != nil {
		t.Fatal(err)
	}
	app := []byte("  - ../../components/app\n")
	if !bytes.Contains(k, app) {
		t.Fatalf("%s does not list ../../components/app", prod)
	}
	k = bytes.Replace(k, app, append([]byte("  - ../../components/servicemonitor\n"), app...), 1)
	if err := fsys.WriteFile(prod, k); err != nil {
		t.Fatal(err)
	}
	return render(t, fsys, "/k/overlays/prod")
}

// checkServiceMonitor checks that the ServiceMonitor scrapes the metrics
// port of a Service in front of every Deployment.
func checkServiceMonitor(t *testing.T, r *rendering) {
	t.Helper()
	if len(r.monitors) != 1 {
		t.Fatalf("rendered %d ServiceMonitors, want 1", len(r.monitors))
	}
	sm := r.monitors[0]
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	scraped := map[string]bool{} // Deployments whose pods a scraped Service selects
	for _, svc := range r.services {
		if !sel.Matches(labels.Set(svc.Labels)) || svc.Namespace != sm.Namespace {
			continue
		}
		for _, w := range selected(t, r, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}) {
			scraped[w.name] = true
			c := w.pod.Spec.Containers[0]
			for _, ep := range sm.Spec.Endpoints {
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
					t.Errorf("ServiceMonitor endpoint port %q is not a port of Service %s", ep.Port, svc.Name)
				}
				if ep.Port != "metrics" {
					t.Errorf("ServiceMonitor endpoint port %q, want metrics (ADMIN_ADDR)", ep.Port)
				}
				r.probes[probe{strings.TrimPrefix(firstOr(c.Command), "/usr/local/bin/"), "ADMIN_ADDR", ep.Path}] =
					"ServiceMonitor " + sm.Name + " via Service " + svc.Name
			}
		}
	}
	for _, d := range r.deployments {
		if !scraped[d.Name] {
			t.Errorf("ServiceMonitor %v scrapes no Service in front of Deployment %s", sel, d.Name)
		}
	}
}

// checkProbesAnswer builds the binaries as the Dockerfile does, starts
// the app, and checks that each probe's path answers 200 on its listener.
func checkProbesAnswer(t *testing.T, probes map[probe]string) {
	t.Helper()
	for _, r := range (appRun{bin: buildAsDockerfile(t)}).start(t) {
		for pr, where := range probes {
			if pr.cmd != r.cmd {
				continue
			}
			port := r.port
			if pr.listener == "ADMIN_ADDR" {
				port = r.adminPort
			}
			t.Run(where, func(t *testing.T) {
				proctest.WaitOK(t, "http://127.0.0.1:"+port+pr.path, r.exited)
			})
			delete(probes, pr)
		}
		r.stop(t)
	}
	for pr, where := range probes {
		t.Errorf("%s: %s probes %s, which no long-running process is", where, pr.path, pr.cmd)
	}
}

// checkRendering checks the invariants every overlay must keep.
func checkRendering(t *testing.T, r *rendering) {
	t.Helper()
	settings := map[string]bool{}
	for _, v := range config.Vars(&config.Config{}) {
		settings[v.Name] = true
	}
	for k := range tracingVars() {
		settings[k] = true
	}
	for _, cm := range r.configMaps {
		for k := range cm.Data {
			if !settings[k] {
				t.Errorf("ConfigMap %s key %s is not a setting of internal/config", cm.Name, k)
			}
		}
	}
	for _, s := range r.secrets {
		for k := range s.Data {
			if !settings[k] {
				t.Errorf("Secret %s key %s is not a setting of internal/config", s.Name, k)
			}
		}
	}

	var image string
	for _, w := range r.workloads() {
		for _, c := range w.pod.Spec.Containers {
			if image == "" {
				image = c.Image
			}
			if c.Image != image {
				t.Errorf("%s %s image %s, want the one image of every process, %s", w.kind, w.name, c.Image, image)
			}
		}
		checkPod(t, r, w)
	}
	if image == "" {
		t.Fatal("no workloads rendered")
	}
	if !pinned(image) {
		t.Errorf("image %s: want a tag other than latest, or a digest", image)
	}
	for _, p := range processes {
		if !slices.ContainsFunc(r.workloads(), func(w workload) bool {
			return w.kind == p.workload && runs(w.pod.Spec.Containers[0], p)
		}) {
			t.Errorf("no %s runs %s", p.workload, strings.TrimSpace(p.cmd+" "+p.args))
		}
	}

	for _, d := range r.deployments {
		checkRollout(t, d)
	}

	for _, hpa := range r.hpas {
		ref := hpa.Spec.ScaleTargetRef
		i := slices.IndexFunc(r.deployments, func(d appsv1.Deployment) bool { return ref.Kind == "Deployment" && d.Name == ref.Name })
		if i < 0 {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which is not rendered", hpa.Name, ref.Kind, ref.Name)
			continue
		}
		if r.deployments[i].Spec.Replicas != nil {
			t.Errorf("Deployment %s sets replicas while HorizontalPodAutoscaler %s scales it: every apply would reset the count", ref.Name, hpa.Name)
		}
	}
	for _, pdb := range r.pdbs {
		if len(selected(t, r, pdb.Spec.Selector)) == 0 {
			t.Errorf("PodDisruptionBudget %s selects no pods", pdb.Name)
		}
	}
	for _, svc := range r.services {
		pods := selected(t, r, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector})
		if len(pods) == 0 {
			t.Errorf("Service %s selects no pods", svc.Name)
			continue
		}
		for _, port := range svc.Spec.Ports {
			for _, w := range pods {
				c := w.pod.Spec.Containers[0]
				cp, ok := containerPort(c, port.TargetPort)
				if !ok {
					t.Errorf("Service %s port %s targets %s, which %s %s does not expose", svc.Name, port.Name, port.TargetPort.String(), w.kind, w.name)
				}
				if named, _ := containerPort(c, intstr.FromString(port.Name)); port.Name == "http" && named != cp {
					t.Errorf("Service %s http targets container port %d, want the http containerPort %d", svc.Name, cp, named)
				}
			}
		}
	}
}

// checkPod checks one workload's pod template.
func checkPod(t *testing.T, r *rendering, w workload) {
	t.Helper()
	spec := &w.pod.Spec
	if len(spec.Containers) != 1 {
		t.Errorf("%s %s has %d containers, want 1", w.kind, w.name, len(spec.Containers))
		return
	}
	c := spec.Containers[0]
	at := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
	p, ok := processOf(strings.TrimPrefix(firstOr(c.Command), "/usr/local/bin/"))
	if !ok || !runs(c, p) {
		t.Errorf("%s runs %q, want /usr/local/bin/PROCESS with the process's arguments", at, append(c.Command, c.Args...))
	}
	cfg := settingsOf(t, r, w, c)

	// Restricted pod security standard, and a read-only root filesystem.
	psc, csc := spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Fatalf("%s: want pod and container securityContext", at)
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: want runAsNonRoot and a numeric non-root runAsUser", at)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: want the RuntimeDefault seccomp profile", at)
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("%s: want allowPrivilegeEscalation: false", at)
	}
	if csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0 {
		t.Errorf("%s: want capabilities drop [ALL] and no add", at)
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Errorf("%s: want readOnlyRootFilesystem", at)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.MountPath == "/tmp" && slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool {
			return v.Name == m.Name && v.EmptyDir != nil
		})
	}) {
		t.Errorf("%s: want an emptyDir on /tmp, the one writable place on a read-only root", at)
	}

	// Resources: requests, a memory limit, and GOMEMLIMIT from it.
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: want cpu and memory requests and a memory limit", at)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "GOMEMLIMIT" && e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil &&
			e.ValueFrom.ResourceFieldRef.Resource == "limits.memory" &&
			(e.ValueFrom.ResourceFieldRef.ContainerName == "" || e.ValueFrom.ResourceFieldRef.ContainerName == c.Name)
	}) {
		t.Errorf("%s: want GOMEMLIMIT from resourceFieldRef limits.memory", at)
	}

	if w.kind != "Deployment" {
		return
	}
	web := p.procType == "web"
	preStop := int64(0)
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = c.Lifecycle.PreStop.Sleep.Seconds
	}
	budget := time.Duration(preStop)*time.Second + cfg.Shutdown.DrainDelay + cfg.Shutdown.Timeout
	grace := 30 * time.Second // the Kubernetes default
	if spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	if budget >= grace {
		t.Errorf("%s: preStop %ds + DRAIN_DELAY %s + SHUTDOWN_TIMEOUT %s = %s, want under terminationGracePeriodSeconds %s",
			at, preStop, cfg.Shutdown.DrainDelay, cfg.Shutdown.Timeout, budget, grace)
	}
	if web && preStop == 0 {
		t.Errorf("%s: want a preStop sleep, so endpoints go before SIGTERM does", at)
	}
	checkNetworkPolicy(t, r, w, web)

	// The admin listener: on every interface of the pod, on the named port.
	host, adminPort, err := net.SplitHostPort(cfg.AdminAddr)
	if err != nil || (host != "" && host != "0.0.0.0") {
		t.Errorf("%s: ADMIN_ADDR %q, want :PORT so that Prometheus can scrape the pod IP", at, cfg.AdminAddr)
	}
	if mp, ok := containerPort(c, intstr.FromString("metrics")); !ok || strconv.Itoa(int(mp)) != adminPort {
		t.Errorf("%s: containerPort metrics = %d, want ADMIN_ADDR's port %s", at, mp, adminPort)
	}
	if web {
		if hp, ok := containerPort(c, intstr.FromString("http")); !ok || int(hp) != cfg.Port {
			t.Errorf("%s: containerPort http = %d, want PORT %d", at, hp, cfg.Port)
		}
	}

	// Probes: on PORT or ADMIN_ADDR; checkProbesAnswer then checks that
	// each path answers there. Web probes its public port, which is what
	// traffic reaches; readiness matters only behind a Service.
	probes := []struct {
		name     string
		probe    *corev1.Probe
		path     string
		required bool
	}{
		{"startupProbe", c.StartupProbe, "/livez", true},
		{"livenessProbe", c.LivenessProbe, "/livez", true},
		{"readinessProbe", c.ReadinessProbe, "/readyz", web},
	}
	for _, pr := range probes {
		if pr.probe == nil || pr.probe.HTTPGet == nil {
			if pr.required {
				t.Errorf("%s: want an httpGet %s", at, pr.name)
			}
			continue
		}
		g := pr.probe.HTTPGet
		if g.Path != pr.path {
			t.Errorf("%s: %s path %s, want %s", at, pr.name, g.Path, pr.path)
		}
		port, _ := containerPort(c, g.Port)
		switch {
		case int(port) == cfg.Port:
			r.probes[probe{p.cmd, "PORT", g.Path}] = at + " " + pr.name
		case strconv.Itoa(int(port)) == adminPort && !web:
			r.probes[probe{p.cmd, "ADMIN_ADDR", g.Path}] = at + " " + pr.name
		default:
			want := fmt.Sprintf("PORT %d", cfg.Port)
			if !web {
				want += " or ADMIN_ADDR's port " + adminPort
			}
			t.Errorf("%s: %s port %s is container port %d, want %s", at, pr.name, g.Port.String(), port, want)
		}
	}
}

// checkNetworkPolicy checks that a policy isolates the workload's pods:
// the http port open to all for web, the metrics port for the monitoring
// namespace only, nothing else.
func checkNetworkPolicy(t *testing.T, r *rendering, w workload, web bool) {
	t.Helper()
	var covered, httpOpen bool
	for _, np := range r.policies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(w.pod.Labels)) {
			continue
		}
		covered = covered || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		for _, rule := range np.Spec.Ingress {
			for _, port := range rule.Ports {
				switch {
				case port.Port == nil:
					t.Errorf("NetworkPolicy %s: a rule admits every port", np.Name)
				case port.Port.String() == "http" && len(rule.From) == 0:
					httpOpen = true
				case port.Port.String() == "metrics" && onlyMonitoring(rule.From):
				default:
					t.Errorf("NetworkPolicy %s admits port %s from %v: want http from anywhere (web only) and metrics from the %s namespace",
						np.Name, port.Port.String(), rule.From, monitoringNamespace)
				}
			}
			if len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy %s: a rule admits every port", np.Name)
			}
		}
	}
	if !covered {
		t.Errorf("%s %s: no NetworkPolicy with Ingress selects its pods", w.kind, w.name)
	}
	if web && !httpOpen {
		t.Errorf("%s %s: no NetworkPolicy admits the http port", w.kind, w.name)
	}
	if !web && httpOpen {
		t.Errorf("%s %s serves no HTTP API, but its NetworkPolicy admits http", w.kind, w.name)
	}
}

func onlyMonitoring(from []networkingv1.NetworkPolicyPeer) bool {
	if len(from) != 1 || from[0].NamespaceSelector == nil || from[0].PodSelector != nil || from[0].IPBlock != nil {
		return false
	}
	ns := from[0].NamespaceSelector
	return len(ns.MatchExpressions) == 0 && len(ns.MatchLabels) == 1 &&
		ns.MatchLabels["kubernetes.io/metadata.name"] == monitoringNamespace
}

// settingsOf loads the configuration a container would see: its
// ConfigMaps and Secrets, then its env, over the defaults.
func settingsOf(t *testing.T, r *rendering, w workload, c corev1.Container) config.Config {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			i := slices.IndexFunc(r.configMaps, func(cm corev1.ConfigMap) bool { return cm.Name == from.ConfigMapRef.Name })
			if i < 0 {
				t.Errorf("%s %s: ConfigMap %s is not rendered", w.kind, w.name, from.ConfigMapRef.Name)
				continue
			}
			for k, v := range r.configMaps[i].Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			i := slices.IndexFunc(r.secrets, func(s corev1.Secret) bool { return s.Name == from.SecretRef.Name })
			if i < 0 {
				checkExampleSecret(t, from.SecretRef.Name)
				continue
			}
			for k, v := range r.secrets[i].Data {
				env[k] = string(v)
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("%s %s: the rendered settings do not load: %v", w.kind, w.name, err)
	}
	return cfg
}

// checkExampleSecret checks that a Secret which an overlay expects to
// exist has an example of that name whose keys are settings.
func checkExampleSecret(t *testing.T, name string) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(root, kubeDir, "*", "*", "secret.example.yaml"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		var s corev1.Secret
		if err := decodeStrict(yamlToJSON(t, b), &s); err != nil {
			t.Errorf("%s: %v", m, err)
			continue
		}
		if s.Name != name {
			continue
		}
		for k := range s.StringData {
			if !slices.ContainsFunc(config.Vars(&config.Config{}), func(v config.Var) bool { return v.Name == k }) {
				t.Errorf("%s: key %s is not a setting of internal/config", m, k)
			}
		}
		return
	}
	t.Errorf("Secret %s is neither rendered nor given as a secret.example.yaml", name)
}

// selected returns the workloads whose pods sel matches.
func selected(t *testing.T, r *rendering, sel *metav1.LabelSelector) []workload {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	var ws []workload
	for _, w := range r.workloads() {
		if !s.Empty() && s.Matches(labels.Set(w.pod.Labels)) {
			ws = append(ws, w)
		}
	}
	return ws
}

// containerPort resolves a named or numbered port of c.
func containerPort(c corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// runs reports whether c runs process p.
func runs(c corev1.Container, p process) bool {
	return strings.Join(append(slices.Clone(c.Command), c.Args...), " ") == strings.TrimSpace("/usr/local/bin/"+p.cmd+" "+p.args)
}

// pinned reports whether an image reference names a digest or a tag other
// than latest.
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	i := strings.LastIndex(image, ":")
	return i > strings.LastIndex(image, "/") && image[i+1:] != "latest"
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func yamlToJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// checkRollout checks that a rollout never lowers capacity, as the fleet
// test (tools/fleet) rolls replicas: a RollingUpdate that starts a new pod
// and waits for its readiness before it stops an old one (maxUnavailable
// 0, maxSurge above 0), which needs a readiness probe to wait on.
func checkRollout(t *testing.T, d appsv1.Deployment) {
	t.Helper()
	s := d.Spec.Strategy
	if s.Type != "" && s.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("Deployment %s: strategy %s, want RollingUpdate", d.Name, s.Type)
		return
	}
	ru := s.RollingUpdate
	if ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.String() != "0" {
		t.Errorf("Deployment %s: want rollingUpdate.maxUnavailable: 0, so a rollout stops an old pod only once a new one is ready (the default, 25%%, stops one first)", d.Name)
	}
	if ru != nil && ru.MaxSurge != nil && (ru.MaxSurge.String() == "0" || ru.MaxSurge.String() == "0%") {
		t.Errorf("Deployment %s: maxSurge 0 with maxUnavailable 0 cannot roll out", d.Name)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.ReadinessProbe == nil {
			t.Errorf("Deployment %s container %s: no readinessProbe for the rollout to wait on", d.Name, c.Name)
		}
	}
}
