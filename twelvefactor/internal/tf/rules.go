// Package twelvefactor is the engine of the twelve-factor checklist linter:
// the rule registry, the finding model, suppression comments, the
// repository config file and the report formats. The checks themselves live
// in the subpackages analyzers (Go code) and filerules (everything else);
// package checklist runs both over a repository.
package tf

import (
	"fmt"
	"slices"
)

// Severity says how much a finding matters. The zero value is Off.
type Severity int

// Severities, from least to most severe.
const (
	Off Severity = iota
	Info
	Warning
	Error
)

// String returns the lowercase name used in flags, config and output.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "off"
}

// ParseSeverity parses "error", "warning", "info" or "off".
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	case "off":
		return Off, nil
	}
	return Off, fmt.Errorf("unknown severity %q (want error, warning, info or off)", s)
}

// MarshalText encodes the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Factor is one of the twelve factors, or the linter's own bookkeeping.
type Factor struct {
	// Numeral is the roman numeral, or "L" for the linter's own rules.
	Numeral string
	// Name is the factor's short name, e.g. "Config".
	Name string
}

// Factors lists the factors in checklist order.
var Factors = []Factor{
	{"I", "Codebase"},
	{"II", "Dependencies"},
	{"III", "Config"},
	{"IV", "Backing services"},
	{"V", "Build, release, run"},
	{"VI", "Processes"},
	{"VII", "Port binding"},
	{"VIII", "Concurrency"},
	{"IX", "Disposability"},
	{"X", "Dev/prod parity"},
	{"XI", "Logs"},
	{"XII", "Admin processes"},
	{"L", "Linter"},
}

// Rule describes one check. IDs are stable: they appear in suppression
// comments and config files, so a rule is never renumbered.
type Rule struct {
	// ID is the stable identifier, the factor's numeral and a number.
	ID string
	// Factor is the numeral of the factor the rule belongs to.
	Factor string
	// Severity is the default severity of the rule's findings.
	Severity Severity
	// Title says in one line what a passing repository does.
	Title string
	// Why says why the rule matters.
	Why string
	// Fix says in one line how to fix a finding.
	Fix string
}

// rules is the registry, in checklist order.
var rules = []Rule{
	{"I1", "I", Warning, "One module builds the service",
		"One codebase is one repository with a root module. Nested modules the service builds with (replace => ./lib) come from the same commit, so factor I holds; but gonew's module zip leaves nested modules out, so a template built that way loses them (info).",
		"Add a go.mod at the root; in a template, merge nested modules into the root one, or publish them and require a version."},
	{"I2", "I", Warning, "No code branches on the deploy name",
		"Deploys differ in config, not code: `if env == \"production\"` and `//go:build prod` ship code that was never run anywhere else.",
		"Turn the difference into a setting with its own name (e.g. LOG_FORMAT, TRACE_SAMPLE_RATE) and set it per deploy."},
	{"I3", "I", Info, "The codebase is under version control",
		"Every deploy should be traceable to a commit. (A gonew copy or a build slug has no .git yet, so this is informational.)",
		"Run git init and commit."},
	{"II1", "II", Error, "go.mod and go.sum declare every dependency",
		"Builds must be reproducible from the repository alone; a missing go.sum entry fails the build or fetches unverified code.",
		"Run go mod tidy and commit go.mod and go.sum."},
	{"II2", "II", Error, "No replace directive points outside the repository",
		"A replace to ../somewhere builds only on the machine that has that directory.",
		"Publish the dependency and require a version, or vendor it into this module."},
	{"II3", "II", Warning, "No implicit system tools run from service code",
		"exec.Command(\"curl\") depends on a tool the image may not have, at a version nobody declared.",
		"Use a Go library for the job, or declare the tool and install it explicitly in the image."},
	{"II4", "II", Warning, "Dockerfile base images are pinned",
		"An image without a tag, or with latest, changes under you between two builds of the same commit.",
		"Name a version tag, and preferably a digest: FROM golang:1.26@sha256:…"},
	{"III1", "III", Info, "The environment is read only in the config package",
		"Scattered os.Getenv calls hide the config contract; one package reading it once makes it visible, testable and documented.",
		"Add a field to the config struct and pass the value down."},
	{"III2", "III", Warning, "The environment contract agrees everywhere",
		"A variable the code reads but .env.example, app.json or the manifests do not set (or the reverse) is a deploy waiting to fail.",
		"Add the variable to the file that lacks it, or remove the stale entry."},
	{"III3", "III", Error, "No secrets committed",
		"A secret in the repository is in every clone, fork and CI log forever.",
		"Remove it, rotate it, and read it from the environment."},
	{"III4", "III", Warning, "No per-deploy config files",
		"config.production.yaml grows into a second codebase and does not scale to new deploys.",
		"Move the values into environment variables set by each deploy."},
	{"III5", "III", Error, "No secret-looking keys in a ConfigMap",
		"ConfigMaps are readable by anyone who can read the namespace and are not encrypted at rest.",
		"Move the key to a Secret (or an external secret store) and reference it with secretKeyRef or envFrom."},
	{"III6", "III", Warning, ".env is ignored by git",
		"A local .env holds real credentials sooner or later.",
		"Add .env to .gitignore."},
	{"IV1", "IV", Error, "No literal connection strings",
		"A backing service must be swappable by changing config; a DSN in code ties the build to one database.",
		"Read the URL from config (e.g. DATABASE_URL) and pass it in."},
	{"IV2", "IV", Info, "Backing services are attached by URL",
		"One *_URL setting per service is what platforms provide and what swapping a service needs; host/user/password settings split one resource into many.",
		"Replace the separate settings with one URL setting, e.g. DATABASE_URL."},
	{"IV3", "IV", Warning, "TLS verification is disabled only behind a setting",
		"InsecureSkipVerify: true in code turns off verification in every deploy.",
		"Make it a setting that defaults to false, or trust the right CA instead."},
	{"V1", "V", Error, "Nothing is built at run time",
		"go run, go build or make at start-up needs the toolchain in production and makes every start a new build.",
		"Build in the build stage and run the compiled binary."},
	{"V2", "V", Warning, "The image is built in stages and runs without a toolchain",
		"A final stage based on golang ships a compiler and hundreds of megabytes the service never uses.",
		"Build in a golang stage and COPY the binaries into a small final stage (scratch, distroless)."},
	{"V3", "V", Error, "Manifest images are pinned",
		"An image without a tag, or latest, makes a release unrepeatable and rollbacks meaningless.",
		"Use an immutable tag or a digest, and let the release tooling set it."},
	{"V4", "V", Warning, "Migrations run as a release step",
		"Schema changes belong to the release, run once with the same artifact, not by whichever process starts first.",
		"Add a Procfile release: line or a Kubernetes Job that runs the migrations."},
	{"V5", "V", Info, "The final image runs as a numeric non-root user",
		"Root in the container is root on a container escape; Kubernetes can only verify runAsNonRoot for numeric users.",
		"Add USER 65532:65532 (or another numeric non-root uid) to the final stage."},
	{"V6", "V", Error, "Kubernetes manifests render and decode strictly",
		"A manifest that kustomize cannot build, or with a field the API type does not have (a typo, a field at the wrong level), fails the release or is silently dropped by the API server.",
		"Fix the field or the kustomization; kubectl apply --validate=strict reports the same."},
	{"VI1", "VI", Warning, "No writes to fixed local paths",
		"Processes are stateless and share nothing: a file written to the local disk is lost on restart and invisible to the other replicas.",
		"Store the data in a backing service; for scratch files use os.CreateTemp or a directory from config."},
	{"VI3", "VI", Info, "Containers have a read-only root filesystem",
		"A writable root filesystem invites local state and lets an attacker drop tools.",
		"Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where scratch space is needed."},
	{"VII1", "VII", Warning, "No literal listen address",
		"The platform assigns the port; a hard-coded \":8080\" ignores it.",
		"Listen on an address built from config (PORT)."},
	{"VII2", "VII", Warning, "PORT is honoured",
		"Heroku and most platforms tell a web process where to listen through PORT.",
		"Add PORT to the config struct and listen on it."},
	{"VII3", "VII", Warning, "One port everywhere",
		"The default PORT, the Dockerfile EXPOSE, the containerPort and the probes must agree or traffic goes nowhere.",
		"Use the same port number (or named port) in every file."},
	{"VII4", "VII", Warning, "Probes hit the ports that serve them",
		"A probe on a port the process does not serve, or serves on loopback only, fails every time: the pod never gets ready, or is restarted forever.",
		"Point the probe at the port of PORT (or of an *_ADDR setting bound to every interface), or change the setting."},
	{"VIII1", "VIII", Error, "The Procfile names process types that the build installs",
		"Each process type must be a command of this codebase that the build produced, or the dyno crashes at start.",
		"Fix the command, or add the main package to the // +heroku install line in go.mod."},
	{"VIII2", "VIII", Error, "Processes do not daemonize",
		"The process manager supervises the process it started; &, nohup or a pid file hide the real process from it.",
		"Run the command in the foreground and let the platform restart it."},
	{"VIII3", "VIII", Info, "Deployments are ready to scale out",
		"Scaling out is how a twelve-factor app grows: more than one replica or an autoscaler, and a disruption budget.",
		"Add a HorizontalPodAutoscaler (and drop replicas from the Deployment) and a PodDisruptionBudget."},
	{"VIII4", "VIII", Error, "Every artifact runs the same process types",
		"The Procfile, the image build, app.json's formation, the Kubernetes workloads and compose each list the processes; one that is missing or extra ships a process that never runs, or runs one no other platform knows.",
		"Make each artifact run exactly the Procfile's process types, with the same binary and arguments."},
	{"IX1", "IX", Error, "SIGTERM is handled",
		"Platforms stop processes with SIGTERM; os.Interrupt alone is SIGINT, and os.Kill cannot be caught.",
		"signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)."},
	{"IX2", "IX", Warning, "Servers shut down gracefully",
		"http.ListenAndServe cannot be stopped, and a server nobody stops cuts in-flight requests at every deploy.",
		"Use an *http.Server (or grpc.Server) and call Shutdown (GracefulStop) with a timeout when the stop signal arrives."},
	{"IX3", "IX", Warning, "The shutdown budget fits the grace period",
		"After SIGTERM a process drains, waits for in-flight work and exits; if that takes longer than the platform waits (terminationGracePeriodSeconds, 30 s on Heroku), SIGKILL cuts requests mid-flight.",
		"Shorten the drain delay or shutdown timeout, or raise terminationGracePeriodSeconds above preStop + drain + shutdown + 2 s."},
	{"IX4", "IX", Warning, "Readiness and liveness probes are present and distinct",
		"Without readiness traffic reaches pods before they are ready; a liveness probe that checks backing services restarts healthy pods during an outage.",
		"Add a readinessProbe (backing services) and a livenessProbe (process only) on different paths."},
	{"IX5", "IX", Info, "No log.Fatal or os.Exit outside main",
		"Exiting deep in the code skips deferred cleanup and graceful shutdown.",
		"Return the error up to run and let main exit."},
	{"IX6", "IX", Warning, "Rollouts keep serving capacity",
		"A rolling update whose maxUnavailable comes to a pod or more (25% of the replicas when unset, rounded down) or the Recreate strategy stops old pods before new ones are ready; without a readinessProbe the rollout cannot tell; a pod a Service routes to that stops serving at SIGTERM, before its endpoint is removed, fails the requests still sent to it.",
		"Set strategy.rollingUpdate.maxUnavailable: 0 (maxSurge above 0), give the container a readinessProbe, and on pods a Service selects a preStop sleep or a DRAIN_DELAY."},
	{"X1", "X", Warning, "One Go version everywhere",
		"go.mod, the Dockerfile, Heroku and CI should build with the same Go, so what was tested is what runs.",
		"Use the go.mod version in the Dockerfile FROM, the +heroku goVersion line and CI."},
	{"XI1", "XI", Warning, "Logs go to stdout, not files",
		"The platform collects the event stream from stdout; log files and rotation fill disks and are lost with the container.",
		"Write logs to stdout (slog.NewJSONHandler(os.Stdout, nil)) and let the platform route them."},
	{"XI2", "XI", Info, "Library code logs through one structured logger",
		"Stray fmt.Println and log.Printf lines bypass levels, structure and request ids.",
		"Pass a *slog.Logger in and log through it, or write to an io.Writer you are given."},
	{"XII1", "XII", Warning, "Migrations ship in the artifact",
		"An admin process must run the same code as the release; migrations left outside the image drift from it.",
		"Embed the migrations with //go:embed (or COPY them into the final stage)."},
	{"XII2", "XII", Error, "Migration files are well named",
		"golang-migrate skips misnamed files silently and fails on duplicate versions.",
		"Name files NNNNNN_title.up.sql and NNNNNN_title.down.sql with unique, increasing versions."},
	{"XII3", "XII", Info, "Admin tasks are commands of the codebase",
		"A shell script calling psql runs against whatever client the operator has; a command in the codebase ships and is tested with the release.",
		"Move the task into a subcommand of cmd/admin (or similar)."},
	{"L1", "L", Warning, "Suppressions name a known rule and give a reason",
		"A suppression without a reason cannot be reviewed, and one naming no rule suppresses nothing.",
		"Write the comment as twelvefactor:ignore ID reason."},
}

// Rules returns every rule in checklist order.
func Rules() []Rule { return slices.Clone(rules) }

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// FactorOf returns the factor with the given numeral.
func FactorOf(numeral string) Factor {
	for _, f := range Factors {
		if f.Numeral == numeral {
			return f
		}
	}
	return Factor{Numeral: numeral}
}
