package filerules

import (
	"fmt"
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
				// Each finding points at a file of this rendering: the
				// patch that sets the field, else the kustomization (an
				// overlay of a shared base), else the Deployment.
				at := func(fields []string, format string, args ...any) {
					file, line := w.site(fields...)
					c.Addf("IX6", file, line, "Deployment %s in %s: "+format, append([]any{w.Name, r.Dir}, args...)...)
				}
				replicas := w.Replicas
				if r.Autoscaled["Deployment/"+w.Name] {
					replicas = nil
				} else if replicas == nil {
					one := int32(1)
					replicas = &one
				}
				if problem := strategyProblem(w.Strategy, replicas); problem != "" {
					at([]string{"maxUnavailable", "maxSurge", "strategy", "replicas"}, "%s", problem)
				}
				if ct.ReadinessProbe == nil {
					at([]string{"readinessProbe"}, "container %s has no readinessProbe, so the rollout does not wait for new pods to be ready", ct.Name)
				}
				if served && (ct.Lifecycle == nil || ct.Lifecycle.PreStop == nil) {
					if drainDelay(settings(src, r, ct)) <= 0 {
						at([]string{"preStop", "lifecycle", "DRAIN_DELAY"}, "a Service routes to container %s, which has no preStop hook and no DRAIN_DELAY, so it stops serving before the endpoints drop it", ct.Name)
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
// capacity away during a rollout, or returns "". replicas is the
// Deployment's count, nil when an autoscaler sets it. Kubernetes rounds a
// percentage of maxUnavailable down and one of maxSurge up, and when both
// come to 0 stops one old pod first: 25% of 1, 2 or 3 replicas loses no
// capacity.
func strategyProblem(s *appsv1.DeploymentStrategy, replicas *int32) string {
	if s.Type == appsv1.RecreateDeploymentStrategyType {
		return "the Recreate strategy stops every pod before new ones start"
	}
	var mu, ms *intstr.IntOrString
	if ru := s.RollingUpdate; ru != nil {
		mu, ms = ru.MaxUnavailable, ru.MaxSurge
	}
	if mu != nil && isZero(*mu) {
		if ms != nil && isZero(*ms) {
			return "maxSurge is 0 with maxUnavailable 0, so the rollout cannot start a new pod"
		}
		return ""
	}
	what := "maxUnavailable is unset and defaults to 25%"
	if mu != nil {
		what = "maxUnavailable is " + mu.String()
	}
	if replicas == nil {
		if mu == nil {
			return what + " of the replicas an autoscaler sets; set it to 0"
		}
		return what + ", so old pods stop before new ones are ready; set it to 0"
	}
	n := int(*replicas)
	if n == 0 {
		return ""
	}
	quarter := intstr.FromString("25%")
	muv, msv := quarter, quarter
	if mu != nil {
		muv = *mu
	}
	if ms != nil {
		msv = *ms
	}
	unavailable, err1 := intstr.GetScaledValueFromIntOrPercent(&muv, n, false)
	surge, err2 := intstr.GetScaledValueFromIntOrPercent(&msv, n, true)
	if err1 != nil || err2 != nil {
		return what + ", so old pods stop before new ones are ready; set it to 0"
	}
	switch {
	case unavailable == 0 && surge == 0:
		return fmt.Sprintf("%s and maxSurge is %s, which both round to 0 of its %d replicas, so Kubernetes stops an old pod before a new one is ready; set maxUnavailable to 0 and maxSurge above 0", what, msv.String(), n)
	case unavailable == 0:
		return ""
	case muv.Type == intstr.String:
		return fmt.Sprintf("%s, %d of its %d replicas, so old pods stop before new ones are ready; set it to 0", what, unavailable, n)
	}
	return what + ", so old pods stop before new ones are ready; set it to 0"
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
