package filerules

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// kobject is the part of a Kubernetes object the rules read. It is local on
// purpose: the linter must not depend on a k8s.io/api version.
type kobject struct {
	File       string `yaml:"-"`
	Line       int    `yaml:"-"`
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		podSpec     `yaml:",inline"`
		Replicas    *int         `yaml:"replicas"`
		Template    *podTemplate `yaml:"template"`
		JobTemplate *struct {
			Spec struct {
				Template *podTemplate `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
		ScaleTargetRef *struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		Selector yaml.Node     `yaml:"selector"`
		Ports    []servicePort `yaml:"ports"`
	} `yaml:"spec"`
	Data       yaml.Node `yaml:"data"`
	StringData yaml.Node `yaml:"stringData"`
}

type podTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec podSpec `yaml:"spec"`
}

type podSpec struct {
	Containers     []container `yaml:"containers"`
	InitContainers []container `yaml:"initContainers"`
}

type servicePort struct {
	Port       any `yaml:"port"`
	TargetPort any `yaml:"targetPort"`
}

type container struct {
	Line    int      `yaml:"-"`
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string `yaml:"name"`
		ValueFrom *struct {
			ConfigMapKeyRef *objRef `yaml:"configMapKeyRef"`
			SecretKeyRef    *objRef `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		Prefix       string  `yaml:"prefix"`
		ConfigMapRef *objRef `yaml:"configMapRef"`
		SecretRef    *objRef `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	SecurityContext *struct {
		ReadOnlyRootFilesystem *bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
}

// objRef names a ConfigMap or Secret.
type objRef struct {
	Name string `yaml:"name"`
}

// refs returns the ConfigMaps and Secrets a container reads its
// environment from.
func (c *container) refs() []string {
	var out []string
	for _, e := range c.EnvFrom {
		for _, r := range []*objRef{e.ConfigMapRef, e.SecretRef} {
			if r != nil {
				out = append(out, r.Name)
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		for _, r := range []*objRef{e.ValueFrom.ConfigMapKeyRef, e.ValueFrom.SecretKeyRef} {
			if r != nil {
				out = append(out, r.Name)
			}
		}
	}
	return out
}

// UnmarshalYAML decodes a container and remembers its line.
func (c *container) UnmarshalYAML(n *yaml.Node) error {
	type plain container
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Line = n.Line
	return nil
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
	TCPSocket *struct {
		Port any `yaml:"port"`
	} `yaml:"tcpSocket"`
	GRPC *struct {
		Port any `yaml:"port"`
	} `yaml:"grpc"`
	Exec *struct {
		Command []string `yaml:"command"`
	} `yaml:"exec"`
}

// key identifies what a probe checks, to tell two probes apart.
func (p *probe) key() string {
	switch {
	case p.HTTPGet != nil:
		return fmt.Sprintf("http %v %s", p.HTTPGet.Port, p.HTTPGet.Path)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp %v", p.TCPSocket.Port)
	case p.GRPC != nil:
		return fmt.Sprintf("grpc %v", p.GRPC.Port)
	case p.Exec != nil:
		return "exec " + strings.Join(p.Exec.Command, " ")
	}
	return ""
}

// port returns the port a probe checks, or nil.
func (p *probe) port() any {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port
	case p.TCPSocket != nil:
		return p.TCPSocket.Port
	case p.GRPC != nil:
		return p.GRPC.Port
	}
	return nil
}

// pod returns the object's pod template, or nil.
func (o *kobject) pod() *podTemplate {
	switch {
	case o.Kind == "Pod":
		return &podTemplate{Spec: o.Spec.podSpec}
	case o.Spec.Template != nil:
		return o.Spec.Template
	case o.Spec.JobTemplate != nil:
		return o.Spec.JobTemplate.Spec.Template
	}
	return nil
}

// kustomization is the part of a kustomization.yaml the rules read.
type kustomization struct {
	Patches []struct {
		Path string `yaml:"path"`
	} `yaml:"patches"`
	PatchesStrategicMerge []string `yaml:"patchesStrategicMerge"`
	PatchesJSON6902       []struct {
		Path string `yaml:"path"`
	} `yaml:"patchesJson6902"`
	Images []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
		Digest  string `yaml:"digest"`
	} `yaml:"images"`
	ConfigMapGenerator []generator `yaml:"configMapGenerator"`
	SecretGenerator    []generator `yaml:"secretGenerator"`
}

type generator struct {
	Name     string   `yaml:"name"`
	Literals []string `yaml:"literals"`
	Envs     []string `yaml:"envs"`
}

// kube is what the other rules need from the manifests.
type kube struct {
	Objects []*kobject
	// Keys are the environment names the service's containers are given,
	// with where: their env entries, and the keys of the ConfigMaps,
	// Secrets and generators they take whole with envFrom.
	Keys []envVar
	// objectKeys are the keys of each ConfigMap, Secret and generator, by
	// name; they become environment variables only through envFrom.
	objectKeys map[string][]envVar
	// HasJob is set when a Job or a Helm or Argo CD hook exists.
	HasJob bool
	// ours reports whether the repository builds an image; the manifest
	// rules judge only the containers that run one. Grafana, a dev
	// Postgres or Loki in a local stack are someone else's images.
	ours func(image string) bool
	// goProgram reports whether an image runs one of the repository's Go
	// programs, whose environment the code shows; an image built here
	// from another language's code (a samples repository) sets variables
	// the Go code never reads.
	goProgram func(image string) bool

	generatesConfigMap bool // a kustomization has a configMapGenerator
}

// isKustomization reports whether a file is a kustomization.
func isKustomization(rel string) bool {
	b := tf.Base(rel)
	return b == "kustomization.yaml" || b == "kustomization.yml" || b == "kustomization"
}

// envName matches keys that can be environment variables, as opposed to
// file names (Corefile, config.yaml) mounted from a ConfigMap.
var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// secretKey matches config keys that name a secret.
var secretKey = regexp.MustCompile(`(?i)(passw(or)?d|secret|token|api_?key|private_?key|credential)`)

// tiltBuild matches docker_build('image', …) in a Tiltfile.
var tiltBuild = regexp.MustCompile(`(?:docker_build|custom_build)\(\s*(?:ref\s*=\s*)?['"]([^'"]+)['"]`)

// loadKube reads the Kubernetes objects of the repository.
func loadKube(repo *tf.Repo, c *tf.Collector) (*kube, map[string]bool) {
	k := &kube{}
	patches := make(map[string]bool)
	pinned := make(map[string]bool) // images set by a kustomize images: entry
	yamls := repo.Match(func(rel string) bool {
		ext := path.Ext(rel)
		return (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(rel, ".github/") && !tf.OutsideService(rel)
	})
	// Tilt builds the images its Tiltfile names and sets their tags.
	for _, rel := range repo.Match(func(rel string) bool { return tf.Base(rel) == "tiltfile" }) {
		for _, m := range tiltBuild.FindAllStringSubmatch(string(repo.Read(rel)), -1) {
			pinned[m[1]] = true
		}
	}
	for _, rel := range yamls {
		if b := tf.Base(rel); b == "skaffold.yaml" || b == "skaffold.yml" {
			// Skaffold builds these images and sets their tags at deploy.
			var sk struct {
				Build struct {
					Artifacts []struct {
						Image string `yaml:"image"`
					} `yaml:"artifacts"`
				} `yaml:"build"`
			}
			for _, doc := range strings.Split(string(repo.Read(rel)), "\n---") {
				if yaml.Unmarshal([]byte(doc), &sk) == nil {
					for _, a := range sk.Build.Artifacts {
						pinned[a.Image] = true
					}
				}
			}
		}
		if !isKustomization(rel) {
			continue
		}
		var kz kustomization
		if yaml.Unmarshal(repo.Read(rel), &kz) != nil {
			continue
		}
		dir := path.Dir(rel)
		for _, p := range kz.Patches {
			patches[path.Join(dir, p.Path)] = true
		}
		for _, p := range kz.PatchesJSON6902 {
			patches[path.Join(dir, p.Path)] = true
		}
		for _, p := range kz.PatchesStrategicMerge {
			patches[path.Join(dir, p)] = true
		}
		for _, im := range kz.Images {
			if im.NewTag != "" || im.Digest != "" {
				pinned[im.Name] = true
			}
		}
		for _, g := range kz.ConfigMapGenerator {
			k.generatesConfigMap = true
			k.addGenerator(repo, c, rel, dir, g, true)
		}
		for _, g := range kz.SecretGenerator {
			k.addGenerator(repo, c, rel, dir, g, false)
		}
	}
	for _, rel := range yamls {
		data := repo.Read(rel)
		if isKustomization(rel) || patches[rel] || bytes.Contains(data, []byte("{{")) {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				break // the end, or YAML other tools own
			}
			o := &kobject{File: rel, Line: n.Line}
			if n.Decode(o) != nil || o.APIVersion == "" || o.Kind == "" {
				continue
			}
			if len(n.Content) > 0 {
				o.Line = n.Content[0].Line
			}
			if p := o.pod(); p != nil && len(p.Spec.Containers) == 0 {
				continue // a patch: only part of the object
			}
			k.Objects = append(k.Objects, o)
		}
	}
	return k, pinned
}

// addGenerator records the keys of a configMapGenerator or secretGenerator.
func (k *kube) addGenerator(repo *tf.Repo, c *tf.Collector, rel, dir string, g generator, configMap bool) {
	data := repo.Read(rel)
	for _, lit := range g.Literals {
		name, _, _ := strings.Cut(lit, "=")
		line := lineOf(data, lit)
		k.addObjectKey(g.Name, envVar{Name: name, File: rel, Line: line})
		if configMap && secretKey.MatchString(name) {
			c.Addf("III5", rel, line, "ConfigMap generator %s sets %s, which looks like a secret", g.Name, name)
		}
	}
	for _, env := range g.Envs {
		f := path.Join(dir, env)
		for _, v := range parseEnvFile(f, repo.Read(f)) {
			k.addObjectKey(g.Name, v)
			if configMap && secretKey.MatchString(v.Name) {
				c.Addf("III5", v.File, v.Line, "ConfigMap generator %s sets %s, which looks like a secret", g.Name, v.Name)
			}
		}
	}
}

// addObjectKey records a key of the ConfigMap or Secret called name.
func (k *kube) addObjectKey(name string, v envVar) {
	if k.objectKeys == nil {
		k.objectKeys = make(map[string][]envVar)
	}
	k.objectKeys[name] = append(k.objectKeys[name], v)
}

// lineOf returns the 1-based line of the first occurrence of s, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// mapKeys returns the keys of a YAML mapping node with their lines.
func mapKeys(n *yaml.Node) []*yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var keys []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i])
	}
	return keys
}

// labelsMatch reports whether a selector node's matchLabels are a subset of
// the labels.
func labelsMatch(sel *yaml.Node, labels map[string]string) bool {
	var s struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if sel.Decode(&s) != nil || len(s.MatchLabels) == 0 {
		return false
	}
	for k, v := range s.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkKube runs V1 and VIII2 (container commands), V3, VI3, VIII3, IX4
// and III5 over the manifests.
func checkKube(repo *tf.Repo, c *tf.Collector, src *goSource) *kube {
	k, pinned := loadKube(repo, c)
	k.ours = builtImages(repo, src, pinned)
	k.goProgram = goImages(repo, src, k.ours)
	// ConfigMaps and Secrets that only other images read are not the
	// service's config.
	foreignRefs, ownRefs := make(map[string]bool), make(map[string]bool)
	for _, o := range k.Objects {
		if p := o.pod(); p != nil {
			for _, ct := range slices.Concat(p.Spec.Containers, p.Spec.InitContainers) {
				for _, r := range ct.refs() {
					if k.ours(ct.Image) {
						ownRefs[r] = true
					} else {
						foreignRefs[r] = true
					}
				}
			}
		}
	}
	if len(k.Objects) == 0 && !k.generatesConfigMap {
		c.NotApplicable("no Kubernetes manifests", "V3", "VI3", "VIII3", "IX4", "III5")
		return k
	}
	hpas := make(map[string]*kobject)
	var pdbs []*kobject
	for _, o := range k.Objects {
		switch o.Kind {
		case "HorizontalPodAutoscaler":
			if o.Spec.ScaleTargetRef != nil {
				hpas[o.Spec.ScaleTargetRef.Kind+"/"+o.Spec.ScaleTargetRef.Name] = o
			}
		case "PodDisruptionBudget":
			pdbs = append(pdbs, o)
		case "Job", "CronJob":
			k.HasJob = true
		case "ConfigMap", "Secret":
			if foreignRefs[o.Metadata.Name] && !ownRefs[o.Metadata.Name] {
				continue
			}
			for _, key := range append(mapKeys(&o.Data), mapKeys(&o.StringData)...) {
				if envName.MatchString(key.Value) {
					// Other keys are files mounted from the object.
					k.addObjectKey(o.Metadata.Name, envVar{Name: key.Value, File: o.File, Line: key.Line})
				}
				if o.Kind == "ConfigMap" && secretKey.MatchString(key.Value) {
					c.Addf("III5", o.File, key.Line, "ConfigMap %s has key %s, which looks like a secret", o.Metadata.Name, key.Value)
				}
			}
		}
		for a := range o.Metadata.Annotations {
			if a == "helm.sh/hook" || a == "argocd.argoproj.io/hook" {
				k.HasJob = true
			}
		}
	}
	workloads, servers, configMaps := 0, 0, 0
	envFromSeen := make(map[string]bool) // prefix and object taken with envFrom
	for _, o := range k.Objects {
		if o.Kind == "ConfigMap" {
			configMaps++
		}
		p := o.pod()
		if p == nil {
			continue
		}
		serving, own := false, false
		for _, ct := range slices.Concat(p.Spec.Containers, p.Spec.InitContainers) {
			if !k.ours(ct.Image) {
				continue
			}
			own = true
			checkImage(c, o, ct, pinned)
			cmd := strings.Join(slices.Concat(ct.Command, ct.Args), " ")
			if b := buildsAtRunTime(cmd); b != "" {
				c.Addf("V1", o.File, ct.Line, "container %s runs %s", ct.Name, b)
			}
			if how := daemonizes(cmd); how != "" {
				c.Addf("VIII2", o.File, ct.Line, "container %s backgrounds its process with %s", ct.Name, how)
			}
			if k.goProgram(ct.Image) {
				// A key taken with configMapKeyRef or secretKeyRef is
				// the variable its env entry names; a ConfigMap or
				// Secret taken whole with envFrom gives each key
				// (behind the prefix). Keys of objects no container
				// of the service takes this way are not its settings:
				// files, a basic-auth Secret's username, another
				// component's config.
				for _, e := range ct.Env {
					k.Keys = append(k.Keys, envVar{Name: e.Name, File: o.File, Line: ct.Line})
				}
				for _, e := range ct.EnvFrom {
					for _, r := range []*objRef{e.ConfigMapRef, e.SecretRef} {
						if r == nil || envFromSeen[e.Prefix+"\x00"+r.Name] {
							continue
						}
						envFromSeen[e.Prefix+"\x00"+r.Name] = true
						for _, v := range k.objectKeys[r.Name] {
							v.Name = e.Prefix + v.Name
							k.Keys = append(k.Keys, v)
						}
					}
				}
			}
		}
		if own {
			workloads++
		}
		for _, ct := range p.Spec.Containers {
			if !k.ours(ct.Image) {
				continue
			}
			if ct.SecurityContext == nil || ct.SecurityContext.ReadOnlyRootFilesystem == nil || !*ct.SecurityContext.ReadOnlyRootFilesystem {
				c.Addf("VI3", o.File, ct.Line, "%s %s: container %s has a writable root filesystem", o.Kind, o.Metadata.Name, ct.Name)
			}
			if len(ct.Ports) == 0 || (o.Kind != "Deployment" && o.Kind != "StatefulSet") {
				continue
			}
			serving = true
			// A missing readiness probe sends traffic to pods that are not
			// ready; the liveness probe's absence or likeness is hardening.
			switch {
			case ct.ReadinessProbe == nil:
				c.Addf("IX4", o.File, ct.Line, "%s %s: container %s has no readinessProbe", o.Kind, o.Metadata.Name, ct.Name)
			case ct.LivenessProbe == nil:
				c.Add(tf.Finding{Rule: "IX4", File: o.File, Line: ct.Line, Hardening: true,
					Message: fmt.Sprintf("%s %s: container %s has no livenessProbe", o.Kind, o.Metadata.Name, ct.Name)})
			case ct.ReadinessProbe.key() == ct.LivenessProbe.key():
				c.Add(tf.Finding{Rule: "IX4", File: o.File, Line: ct.Line, Hardening: true,
					Message: fmt.Sprintf("%s %s: container %s checks readiness and liveness the same way (%s)", o.Kind, o.Metadata.Name, ct.Name, ct.LivenessProbe.key())})
			}
		}
		if serving {
			servers++
		}
		if o.Kind != "Deployment" || !serving {
			continue
		}
		hpa := hpas["Deployment/"+o.Metadata.Name]
		switch {
		case hpa != nil && o.Spec.Replicas != nil:
			c.Addf("VIII3", o.File, o.Line, "Deployment %s sets replicas but HorizontalPodAutoscaler %s scales it; every apply resets the count", o.Metadata.Name, hpa.Metadata.Name)
		case hpa == nil && (o.Spec.Replicas == nil || *o.Spec.Replicas < 2):
			c.Addf("VIII3", o.File, o.Line, "Deployment %s runs one replica and no HorizontalPodAutoscaler scales it", o.Metadata.Name)
		}
		if !slices.ContainsFunc(pdbs, func(pdb *kobject) bool { return labelsMatch(&pdb.Spec.Selector, o.Spec.Template.Metadata.Labels) }) {
			c.Addf("VIII3", o.File, o.Line, "no PodDisruptionBudget selects Deployment %s", o.Metadata.Name)
		}
	}
	if workloads == 0 {
		c.NotApplicable("no workload in the manifests runs an image this repository builds", "V3", "VI3")
	}
	if servers == 0 {
		c.NotApplicable("no Deployment serves on a port", "VIII3", "IX4")
	}
	if configMaps == 0 && !k.generatesConfigMap {
		c.NotApplicable("no ConfigMaps", "III5")
	}
	return k
}

// checkImage runs V3 on one container image.
func checkImage(c *tf.Collector, o *kobject, ct container, pinned map[string]bool) {
	if ct.Image == "" || strings.ContainsAny(ct.Image, "${") || strings.HasPrefix(ct.Image, "ko://") {
		return // set by a template, or built and pinned by ko
	}
	name, tag, digest := imageRef(ct.Image)
	if pinned[name] || pinned[ct.Image] || digest != "" {
		return
	}
	switch tag {
	case "":
		c.Addf("V3", o.File, ct.Line, "container %s: image %s has no tag", ct.Name, ct.Image)
	case "latest":
		c.Addf("V3", o.File, ct.Line, "container %s: image %s uses the latest tag", ct.Name, ct.Image)
	}
}

// imageTag matches the image names that scripts and CI build:
// docker build -t NAME, --tag NAME, image_templates entries.
var imageTag = regexp.MustCompile(`(?:\s-t|--tag)[ =]+["']?([^\s"':]+)`)

// builtImages returns a test for the images the repository builds: those
// named after one of its programs or the module, a compose service with a
// build section, a Skaffold artifact, a kustomize images entry, an image
// that docker build -t names in a script, Makefile or CI file, ko:// and
// templated references.
func builtImages(repo *tf.Repo, src *goSource, pinned map[string]bool) func(string) bool {
	names := make(map[string]bool)
	add := func(ref string) {
		n, _, _ := imageRef(strings.ToLower(ref))
		names[path.Base(n)] = true
	}
	for d := range src.MainDirs {
		if d != "." {
			add(path.Base(d))
		}
	}
	for _, m := range modules(repo) {
		add(path.Base(m.Path))
		if m.Dir != "." {
			add(path.Base(m.Dir))
		}
	}
	add(filepath.Base(repo.Root))
	for ref := range pinned {
		add(ref)
	}
	for _, f := range repo.Match(isCompose) {
		var cf struct {
			Services map[string]struct {
				Build any    `yaml:"build"`
				Image string `yaml:"image"`
			} `yaml:"services"`
		}
		if yaml.Unmarshal(repo.Read(f), &cf) != nil {
			continue
		}
		for name, svc := range cf.Services {
			if svc.Build != nil {
				add(name)
				if svc.Image != "" {
					add(svc.Image)
				}
			}
		}
	}
	for _, f := range repo.Match(func(rel string) bool {
		b := tf.Base(rel)
		return b == "makefile" || strings.HasSuffix(b, ".mk") || strings.HasSuffix(b, ".sh") || strings.HasPrefix(b, ".goreleaser") ||
			(strings.HasPrefix(rel, ".github/") && (strings.HasSuffix(b, ".yml") || strings.HasSuffix(b, ".yaml")))
	}) {
		for _, m := range imageTag.FindAllStringSubmatch(string(repo.Read(f)), -1) {
			if !strings.Contains(m[1], "$") {
				add(m[1])
			}
		}
	}
	return func(image string) bool {
		if image == "" || strings.ContainsAny(image, "${") || strings.HasPrefix(image, "ko://") {
			return true // set by a template or a build tool
		}
		n, _, _ := imageRef(strings.ToLower(image))
		return names[path.Base(n)]
	}
}

// goImages returns a test for the images that run a Go program of the
// repository: named after a main package or a module. When no image of
// the manifests has such a name, every image built here counts.
func goImages(repo *tf.Repo, src *goSource, ours func(string) bool) func(string) bool {
	names := make(map[string]bool)
	for d := range src.MainDirs {
		names[path.Base(d)] = true
	}
	for _, m := range modules(repo) {
		names[path.Base(m.Path)] = true
		names[path.Base(m.Dir)] = true
	}
	return func(image string) bool {
		if !ours(image) {
			return false
		}
		n, _, _ := imageRef(strings.ToLower(image))
		return names[path.Base(n)] || len(names) == 0 || strings.ContainsAny(image, "${")
	}
}
