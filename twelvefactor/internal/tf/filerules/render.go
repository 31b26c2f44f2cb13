package filerules

import (
	"bytes"
	"cmp"
	"encoding/json"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// rendering is one kustomization as kustomize builds it, decoded into the
// Kubernetes API types: what a deploy of it would apply.
type rendering struct {
	// Dir is the kustomization's directory and File its kustomization
	// file, slash paths relative to the repository.
	Dir, File  string
	Workloads  []workload
	ConfigMaps map[string]map[string]string
	Secrets    map[string]map[string]string
	// Selectors are the pod selectors of the rendered Services.
	Selectors []map[string]string
	// Autoscaled are the workloads an autoscaler scales, as Kind/name.
	Autoscaled map[string]bool
}

// workload is a rendered object with a pod template.
type workload struct {
	Kind, Name string
	// File and Line are where the object is written in the repository
	// (before kustomize renamed it), for findings and suppressions; the
	// kustomization file when kustomize generated it.
	File string
	Line int
	Pod  *corev1.PodTemplateSpec
	// Strategy is a Deployment's update strategy, nil for other kinds;
	// Replicas its replica count, nil when unset.
	Strategy *appsv1.DeploymentStrategy
	Replicas *int32

	// overlay is the kustomization file of the rendering when the object
	// is written outside its directory (in a base); replicasLine the line
	// of its replicas: entry when it sets this object's count.
	overlay      string
	replicasLine int
	// patches are the patches of the rendering that apply to the object,
	// the top kustomization's first.
	patches []patchDoc
}

// site returns where a finding about the fields belongs in the
// rendering: the first of its patches that sets one of them, else the
// rendering's kustomization file when the object is written in a base
// (at its replicas: entry when replicas is one of the fields and it sets
// them), else the object as written.
func (w workload) site(fields ...string) (string, int) {
	for _, p := range w.patches {
		for _, f := range fields { // the first field is the most precise
			for i, l := range p.lines {
				t := strings.TrimLeft(strings.TrimSpace(l), "- ")
				if strings.HasPrefix(t, f+":") || strings.HasPrefix(t, `"`+f+`":`) || strings.Contains(t, "/"+f) {
					return p.file, p.start + i
				}
			}
		}
	}
	if w.overlay != "" {
		if w.replicasLine > 0 && slices.Contains(fields, "replicas") {
			return w.overlay, w.replicasLine
		}
		return w.overlay, 1
	}
	return w.File, w.Line
}

// longRunning reports whether the workload's pods are restarted when they
// exit, as a process type other than release is.
func (w workload) longRunning() bool {
	return w.Kind == "Deployment" || w.Kind == "StatefulSet" || w.Kind == "DaemonSet"
}

// strictTypes are the kinds whose objects decode strictly: a field their
// API type does not have is an error here, as it is for kubectl apply
// --validate=strict. Other kinds (custom resources) are left alone.
var strictTypes = map[string]func() any{
	"apps/v1 Deployment":                       func() any { return new(appsv1.Deployment) },
	"apps/v1 StatefulSet":                      func() any { return new(appsv1.StatefulSet) },
	"apps/v1 DaemonSet":                        func() any { return new(appsv1.DaemonSet) },
	"batch/v1 Job":                             func() any { return new(batchv1.Job) },
	"batch/v1 CronJob":                         func() any { return new(batchv1.CronJob) },
	"v1 Service":                               func() any { return new(corev1.Service) },
	"v1 ConfigMap":                             func() any { return new(corev1.ConfigMap) },
	"v1 Secret":                                func() any { return new(corev1.Secret) },
	"v1 ServiceAccount":                        func() any { return new(corev1.ServiceAccount) },
	"v1 Namespace":                             func() any { return new(corev1.Namespace) },
	"v1 PersistentVolumeClaim":                 func() any { return new(corev1.PersistentVolumeClaim) },
	"policy/v1 PodDisruptionBudget":            func() any { return new(policyv1.PodDisruptionBudget) },
	"autoscaling/v2 HorizontalPodAutoscaler":   func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"networking.k8s.io/v1 NetworkPolicy":       func() any { return new(networkingv1.NetworkPolicy) },
	"networking.k8s.io/v1 Ingress":             func() any { return new(networkingv1.Ingress) },
	"rbac.authorization.k8s.io/v1 Role":        func() any { return new(rbacv1.Role) },
	"rbac.authorization.k8s.io/v1 RoleBinding": func() any { return new(rbacv1.RoleBinding) },
}

// decodeStrict decodes JSON into v, failing on fields v does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// kustomizationTree is the part of a kustomization file that links it
// to the others.
type kustomizationTree struct {
	Kind                  string       `yaml:"kind"`
	Resources             []string     `yaml:"resources"`
	Bases                 []string     `yaml:"bases"`
	Components            []string     `yaml:"components"`
	Patches               []patchEntry `yaml:"patches"`
	PatchesStrategicMerge []string     `yaml:"patchesStrategicMerge"`
	PatchesJSON6902       []patchEntry `yaml:"patchesJson6902"`
	Replicas              []struct {
		Name string `yaml:"name"`
	} `yaml:"replicas"`
}

// patchEntry is one entry of a kustomization's patches: a file or an
// inline patch, and the objects it targets.
type patchEntry struct {
	Path   string `yaml:"path"`
	Patch  string `yaml:"patch"`
	Target *struct {
		Kind string `yaml:"kind"`
		Name string `yaml:"name"`
	} `yaml:"target"`
}

// targets reports whether a patch entry's target selects the object; an
// entry without a target names its object inside the patch.
func (p patchEntry) targets(kind, name string) bool {
	if p.Target == nil {
		return false
	}
	return (p.Target.Kind == "" || p.Target.Kind == kind) && (p.Target.Name == "" || p.Target.Name == name)
}

// entries returns the resources, bases and components a kustomization
// includes.
func (k kustomizationTree) entries() []string {
	return slices.Concat(k.Resources, k.Bases, k.Components)
}

// isRemote reports whether a kustomization entry is fetched from the
// network: a URL, a git reference or a go-getter style path.
func isRemote(r string) bool {
	return strings.Contains(r, "://") || strings.Contains(r, "?ref=") || strings.HasPrefix(r, "github.com/") || strings.HasPrefix(r, "git@")
}

// remoteChain returns the path from the kustomization in dir to a remote
// resource it includes, directly or through the local kustomizations it
// includes: the directories passed through, then the remote entry. It
// returns nil when everything it includes is local.
func remoteChain(trees map[string]kustomizationTree, dir string, seen map[string]bool) []string {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	k := trees[dir]
	for _, r := range k.entries() {
		if isRemote(r) {
			return []string{r}
		}
	}
	for _, r := range k.entries() {
		sub := path.Clean(path.Join(dir, r))
		if _, ok := trees[sub]; !ok {
			continue // a file, or a directory that is no kustomization
		}
		if chain := remoteChain(trees, sub, seen); chain != nil {
			return append([]string{sub + "/"}, chain...)
		}
	}
	return nil
}

// source is where a manifest document is written.
type source struct {
	file string
	line int
	bad  bool // it does not decode as written
}

// tree is what a kustomization includes, through the kustomizations it
// includes: the resource files, and the patches in the order they are
// found from the top (the kustomization's own patches first).
type tree struct {
	resources map[string]bool
	patches   []patchSite
}

// patchSite is a patch of a kustomization: a file of patches, or an
// inline one written in the kustomization file.
type patchSite struct {
	file  string
	entry patchEntry
	// smp is set for a strategic-merge patch, which names its objects
	// itself.
	smp bool
}

// walkTree collects what the kustomization in dir includes.
func walkTree(repo *tf.Repo, trees map[string]kustomizationTree, dir string, t *tree, seen map[string]bool) {
	if seen[dir] {
		return
	}
	seen[dir] = true
	k := trees[dir]
	kf := kustomizationFile(repo, dir)
	for _, p := range k.Patches {
		if p.Path != "" {
			t.patches = append(t.patches, patchSite{file: path.Join(dir, p.Path), entry: p, smp: p.Target == nil})
		} else {
			t.patches = append(t.patches, patchSite{file: kf, entry: p})
		}
	}
	for _, p := range k.PatchesStrategicMerge {
		if strings.Contains(p, "\n") {
			t.patches = append(t.patches, patchSite{file: kf, entry: patchEntry{Patch: p}, smp: true})
		} else {
			t.patches = append(t.patches, patchSite{file: path.Join(dir, p), smp: true})
		}
	}
	for _, p := range k.PatchesJSON6902 {
		f := kf
		if p.Path != "" {
			f = path.Join(dir, p.Path)
		}
		t.patches = append(t.patches, patchSite{file: f, entry: p})
	}
	for _, r := range k.entries() {
		sub := path.Clean(path.Join(dir, r))
		if _, ok := trees[sub]; ok {
			walkTree(repo, trees, sub, t, seen)
		} else if !isRemote(r) {
			t.resources[sub] = true
		}
	}
}

// kustomizationFile returns the kustomization file of a directory.
func kustomizationFile(repo *tf.Repo, dir string) string {
	file := path.Join(dir, "kustomization.yaml")
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if repo.Has(path.Join(dir, name)) {
			file = path.Join(dir, name)
		}
	}
	return file
}

// patchDoc is the text of a patch that applies to one object.
type patchDoc struct {
	file  string
	start int // the line of the first of lines
	lines []string
}

// objectPatches returns the text of the tree's patches that apply to the
// object: the document of a strategic-merge patch file that names it, a
// JSON 6902 patch file or an inline patch whose target selects it.
func objectPatches(repo *tf.Repo, t *tree, written map[string][]source, kind, name string) []patchDoc {
	var out []patchDoc
	for _, p := range t.patches {
		switch {
		case p.entry.Patch != "":
			inline := p.entry.targets(kind, name) ||
				p.smp && strings.Contains(p.entry.Patch, kind) && strings.Contains(p.entry.Patch, name)
			if inline {
				// The kustomization file, from the patch's first line.
				data := repo.Read(p.file)
				first, _, _ := strings.Cut(strings.TrimSpace(p.entry.Patch), "\n")
				start := max(lineOf(data, first), 1)
				ls := lines(data)
				out = append(out, patchDoc{file: p.file, start: start, lines: ls[min(start-1, len(ls)):]})
			}
		case p.smp:
			for _, src := range written[kind+"/"+name] {
				if src.file == p.file {
					out = append(out, document(repo, src))
				}
			}
		case p.entry.targets(kind, name):
			out = append(out, patchDoc{file: p.file, start: 1, lines: lines(repo.Read(p.file))})
		}
	}
	return out
}

// document returns the YAML document of a file that holds a source.
func document(repo *tf.Repo, src source) patchDoc {
	ls := lines(repo.Read(src.file))
	start, end := src.line, src.line
	for start > 1 && strings.TrimSpace(ls[start-2]) != "---" {
		start--
	}
	for end < len(ls) && strings.TrimSpace(ls[end]) != "---" {
		end++
	}
	if start < 1 || end > len(ls) || start > end {
		return patchDoc{file: src.file, start: 1, lines: ls}
	}
	return patchDoc{file: src.file, start: start, lines: ls[start-1 : end]}
}

// renderKube runs V6: it decodes every manifest of a known kind strictly,
// builds every kustomization that no other one includes, and decodes what
// it renders. It returns the renderings for the rules that compare the
// manifests with the other artifacts.
func renderKube(repo *tf.Repo, c *tf.Collector) []*rendering {
	written := decodeManifests(repo, c)
	var roots []string
	included := map[string]bool{}
	trees := map[string]kustomizationTree{}
	var dirs []string
	for _, rel := range repo.Match(isKustomization) {
		var k kustomizationTree
		if err := yaml.Unmarshal(repo.Read(rel), &k); err != nil {
			c.Addf("V6", rel, 1, "the kustomization does not parse: %v", err)
			continue
		}
		dir := path.Dir(rel)
		trees[dir] = k
		dirs = append(dirs, dir)
		for _, r := range k.entries() {
			included[path.Clean(path.Join(dir, r))] = true
		}
	}
	for _, dir := range dirs {
		rel := path.Join(dir, "kustomization.yaml")
		for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			if repo.Has(path.Join(dir, name)) {
				rel = path.Join(dir, name)
			}
		}
		// A remote resource here or in a kustomization this one
		// includes, through any number of directories: kustomize would
		// fetch it, so the build fails offline for no fault of the
		// repository's.
		if chain := remoteChain(trees, dir, map[string]bool{}); chain != nil {
			via := ""
			if len(chain) > 1 {
				via = " (through " + strings.Join(chain[:len(chain)-1], ", ") + ")"
			}
			c.Notef("V6 does not render %s: it includes %s, a remote resource the linter does not fetch%s", rel, chain[len(chain)-1], via)
			included[dir] = true // rendered by none
			continue
		}
		if trees[dir].Kind != "Component" {
			roots = append(roots, dir)
		}
	}
	if len(roots) == 0 {
		c.NotApplicable("no kustomization", "V6")
	}
	var out []*rendering
	for _, dir := range roots {
		if included[dir] {
			continue // a base: rendered as part of the overlays that include it
		}
		if r := render(repo, c, dir, written, trees); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// decodeManifests decodes every YAML document of a known kind strictly and
// returns where each object is written, by kind and name.
func decodeManifests(repo *tf.Repo, c *tf.Collector) map[string][]source {
	written := map[string][]source{}
	for _, rel := range repo.Match(func(rel string) bool {
		return (strings.HasSuffix(rel, ".yaml") || strings.HasSuffix(rel, ".yml")) && !isKustomization(rel) && !tf.OutsideService(rel)
	}) {
		dec := yaml.NewDecoder(bytes.NewReader(repo.Read(rel)))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				break // the end, or not YAML: other rules report that
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if doc.Decode(&head) != nil || head.Kind == "" || head.APIVersion == "" {
				continue
			}
			if isPatch(&doc) {
				continue // a strategic-merge patch, not an object: kustomize applies it
			}
			line := kindLine(&doc)
			key := head.Kind + "/" + head.Metadata.Name
			written[key] = append(written[key], source{file: rel, line: line})
			newT, ok := strictTypes[head.APIVersion+" "+head.Kind]
			if !ok {
				continue
			}
			var plain any
			if err := doc.Decode(&plain); err != nil {
				continue
			}
			j, err := json.Marshal(plain)
			if err != nil {
				continue
			}
			if err := decodeStrict(j, newT()); err != nil {
				written[key][len(written[key])-1].bad = true
				c.Addf("V6", rel, line, "%s %s does not decode as %s: %v", head.Kind, head.Metadata.Name, head.APIVersion, cleanJSONErr(err))
			}
		}
	}
	return written
}

// isPatch reports whether a document holds a strategic-merge directive
// ($patch, $retainKeys, $setElementOrder/…, $deleteFromPrimitiveList/…)
// at any depth: such a file is a patch for kustomize to apply (a
// component's "$patch: delete", say), and decodes as no object.
func isPatch(n *yaml.Node) bool {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if strings.HasPrefix(n.Content[i].Value, "$") {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if isPatch(c) {
			return true
		}
	}
	return false
}

// kindLine returns the line of a document's kind key.
func kindLine(doc *yaml.Node) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// cleanJSONErr drops the "json: " prefix of encoding/json's errors.
func cleanJSONErr(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// render builds the kustomization in dir and decodes its objects.
func render(repo *tf.Repo, c *tf.Collector, dir string, written map[string][]source, trees map[string]kustomizationTree) *rendering {
	file := kustomizationFile(repo, dir)
	opts := krusty.MakeDefaultOptions()
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), filepath.Join(repo.Root, filepath.FromSlash(dir)))
	if err != nil {
		c.Addf("V6", file, 1, "kustomize build %s fails: %v", dir, strings.ReplaceAll(err.Error(), repo.Root+string(filepath.Separator), ""))
		return nil
	}
	t := &tree{resources: map[string]bool{}}
	walkTree(repo, trees, dir, t, map[string]bool{})
	patchFiles := map[string]bool{}
	for _, p := range t.patches {
		patchFiles[p.file] = true
	}
	r := &rendering{Dir: dir, File: file, ConfigMaps: map[string]map[string]string{}, Secrets: map[string]map[string]string{}, Autoscaled: map[string]bool{}}
	for _, res := range m.Resources() {
		b, err := res.MarshalJSON()
		if err != nil {
			continue
		}
		kind, name := res.GetKind(), res.GetName()
		// Where the object is written in this kustomization's tree:
		// the resource file, not another overlay's patch of it.
		orgName := res.OrgId().Name
		at, found := source{file: file, line: 1}, false
		for _, src := range written[kind+"/"+orgName] {
			if t.resources[src.file] && !found {
				at, found = src, true
			}
		}
		for _, src := range written[kind+"/"+orgName] {
			if src.bad && (t.resources[src.file] || patchFiles[src.file]) {
				at.bad = true
			}
		}
		var scaler struct {
			Spec struct {
				ScaleTargetRef *struct {
					Kind string `json:"kind"`
					Name string `json:"name"`
				} `json:"scaleTargetRef"`
			} `json:"spec"`
		}
		if json.Unmarshal(b, &scaler) == nil && scaler.Spec.ScaleTargetRef != nil {
			// A HorizontalPodAutoscaler, or another autoscaler (KEDA's
			// ScaledObject) that sets the replicas.
			r.Autoscaled[cmp.Or(scaler.Spec.ScaleTargetRef.Kind, "Deployment")+"/"+scaler.Spec.ScaleTargetRef.Name] = true
		}
		newT, ok := strictTypes[res.GetApiVersion()+" "+kind]
		if !ok {
			continue
		}
		obj := newT()
		if err := decodeStrict(b, obj); err != nil {
			// Reported once, where it is written, unless the overlay
			// introduced it.
			if !at.bad {
				c.Addf("V6", file, 1, "%s %s, as %s renders it, does not decode as %s: %v", kind, name, dir, res.GetApiVersion(), cleanJSONErr(err))
			}
			continue
		}
		w := workload{Kind: kind, Name: name, File: at.file, Line: at.line}
		if !found || path.Dir(at.file) != dir && !strings.HasPrefix(at.file, dir+"/") && dir != "." {
			w.overlay = file // written outside the kustomization's directory: a base
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			w.Pod, w.Strategy, w.Replicas = &o.Spec.Template, &o.Spec.Strategy, o.Spec.Replicas
			w.patches = objectPatches(repo, t, written, kind, orgName)
			if slices.ContainsFunc(trees[dir].Replicas, func(rp struct {
				Name string `yaml:"name"`
			}) bool {
				return rp.Name == orgName || rp.Name == name
			}) {
				w.replicasLine = lineOf(repo.Read(file), "replicas:")
			}
			r.Workloads = append(r.Workloads, w)
		case *appsv1.StatefulSet:
			w.Pod = &o.Spec.Template
			r.Workloads = append(r.Workloads, w)
		case *appsv1.DaemonSet:
			w.Pod = &o.Spec.Template
			r.Workloads = append(r.Workloads, w)
		case *batchv1.Job:
			w.Pod = &o.Spec.Template
			r.Workloads = append(r.Workloads, w)
		case *batchv1.CronJob:
			w.Pod = &o.Spec.JobTemplate.Spec.Template
			r.Workloads = append(r.Workloads, w)
		case *corev1.Service:
			if len(o.Spec.Selector) > 0 {
				r.Selectors = append(r.Selectors, o.Spec.Selector)
			}
		case *corev1.ConfigMap:
			r.ConfigMaps[name] = o.Data
		case *corev1.Secret:
			data := map[string]string{}
			for k, v := range o.Data {
				data[k] = string(v)
			}
			for k, v := range o.StringData {
				data[k] = v
			}
			r.Secrets[name] = data
		}
	}
	return r
}
