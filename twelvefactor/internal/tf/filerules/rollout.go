package filerules

import (
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// checkRollout runs IX6 over the rendered Deployments that run the
// service's programs: a rolling update that starts each new pod, waits for
// its readiness, and only then stops an old one, and for the pods a Service
// routes to, a preStop hook or a drain delay that keeps the old pod serving
// until the endpoints drop it.
func checkRollout(c *tf.Collector, src *goSource, renders []*rendering, img *image) {
	mains := mainNames(src)
	checked := false
	for _, r := range renders {
		for _, w := range r.Workloads {
			if w.Kind != "Deployment" {
				continue
			}
			spec := &w.Pod.Spec
			served := selected(r.Selectors, w.Pod.Labels)
			for i := range spec.Containers {
				ct := &spec.Containers[i]
				if _, ok := appContainer(spec, ct, mains, img); !ok {
					continue
				}
				checked = true
				at := func(format string, args ...any) {
					c.Addf("IX6", w.File, w.Line, "Deployment %s in %s: "+format, append([]any{w.Name, r.Dir}, args...)...)
				}
				if problem := strategyProblem(w.Strategy); problem != "" {
					at("%s", problem)
				}
				if ct.ReadinessProbe == nil {
					at("container %s has no readinessProbe, so the rollout does not wait for new pods to be ready", ct.Name)
				}
				if served && (ct.Lifecycle == nil || ct.Lifecycle.PreStop == nil) {
					if drainDelay(settings(src, r, ct)) <= 0 {
						at("a Service routes to container %s, which has no preStop hook and no DRAIN_DELAY, so it stops serving before the endpoints drop it", ct.Name)
					}
				}
			}
		}
	}
	if !checked {
		c.NotApplicable("no rendered Deployment runs the service's programs", "IX6")
	}
}

// selected reports whether one of the Service selectors matches the labels.
func selected(selectors []map[string]string, labels map[string]string) bool {
	for _, sel := range selectors {
		match := true
		for k, v := range sel {
			if labels[k] != v {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// strategyProblem says why a Deployment's update strategy can take serving
// capacity away during a rollout, or returns "".
func strategyProblem(s *appsv1.DeploymentStrategy) string {
	if s.Type == appsv1.RecreateDeploymentStrategyType {
		return "the Recreate strategy stops every pod before new ones start"
	}
	ru := s.RollingUpdate
	if ru == nil || ru.MaxUnavailable == nil {
		return "maxUnavailable is unset and defaults to 25%; set it to 0"
	}
	if !isZero(*ru.MaxUnavailable) {
		return "maxUnavailable is " + ru.MaxUnavailable.String() + ", so old pods stop before new ones are ready; set it to 0"
	}
	if ru.MaxSurge != nil && isZero(*ru.MaxSurge) {
		return "maxSurge is 0 with maxUnavailable 0, so the rollout cannot start a new pod"
	}
	return ""
}

// isZero reports whether a count or percentage is zero.
func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(v.StrVal, "%"), 64)
	return err == nil && n == 0
}

// drainDelay returns the DRAIN_DELAY a container sees, as a duration or
// a number of seconds; 0 when unset or unreadable.
func drainDelay(env map[string]string) time.Duration {
	v := strings.TrimSpace(env["DRAIN_DELAY"])
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(n * float64(time.Second))
	}
	return 0
}
