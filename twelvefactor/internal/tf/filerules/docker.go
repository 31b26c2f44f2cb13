package filerules

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// dockerfile is what the rules need from one Dockerfile.
type dockerfile struct {
	Path   string
	Stages []*stage
}

// stage returns the stage a COPY --from or a FROM names: its AS name or
// its index; nil when none has it.
func (d *dockerfile) stage(name string) *stage {
	for _, st := range d.Stages {
		if st.Name != "" && st.Name == name {
			return st
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(d.Stages) {
		return d.Stages[i]
	}
	return nil
}

// final returns the last stage, the one that becomes the image.
func (d *dockerfile) final() *stage { return d.Stages[len(d.Stages)-1] }

// stage is one FROM section.
type stage struct {
	Base, Name string // Name is the AS name, lowercased
	// FromArg is set when Base came from a build argument, whose real
	// value is chosen at build time.
	FromArg  bool
	Line     int
	User     string
	UserLine int
	Start    []command // CMD and ENTRYPOINT
	Copies   []command // COPY and ADD, Args are the sources
	Expose   []command
	Runs     []command // RUN
	// Workdir is the stage's working directory as an absolute path, after
	// its last WORKDIR ("/" when none is set).
	Workdir string
}

// command is one instruction with its arguments.
type command struct {
	Line int
	Args []string
	From string // COPY --from
	// Dest is a COPY or ADD destination as an absolute path, resolved
	// against the stage's working directory at that point.
	Dest string
}

// isDockerfile reports whether a file name is a Dockerfile of the service.
// Development containers (.devcontainer/), development images and test
// images are not the service's artifacts and are left out.
func isDockerfile(rel string) bool {
	if strings.HasPrefix(rel, ".devcontainer/") || tf.OutsideService(rel) {
		return false
	}
	b := tf.Base(rel)
	if !(b == "dockerfile" || strings.HasPrefix(b, "dockerfile.") || strings.HasPrefix(b, "dockerfile-") || strings.HasSuffix(b, ".dockerfile")) {
		return false
	}
	// Dockerfile.dev, test.Dockerfile, Dockerfile-local: images for
	// development and tests, not the artifact.
	for _, w := range strings.FieldsFunc(b, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		if devImageWords[w] {
			return false
		}
	}
	return true
}

// devImageWords mark a Dockerfile's name as one for development or tests.
var devImageWords = map[string]bool{"dev": true, "development": true, "local": true, "debug": true, "test": true, "tests": true, "e2e": true, "integration": true, "ci": true, "compose": true}

// argRef matches $NAME and ${NAME} in a FROM line.
var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?`)

// parseDockerfile reads a Dockerfile with buildkit's parser.
func parseDockerfile(rel string, data []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", rel, err)
	}
	d := &dockerfile{Path: rel}
	args := make(map[string]string) // ARG defaults before the first FROM
	var cur *stage
	for _, n := range res.AST.Children {
		var words []string
		for a := n.Next; a != nil; a = a.Next {
			words = append(words, a.Value)
		}
		switch strings.ToLower(n.Value) {
		case "arg":
			if cur == nil {
				for _, w := range words {
					k, v, _ := strings.Cut(w, "=")
					args[k] = strings.Trim(v, `"`)
				}
			}
		case "from":
			if len(words) == 0 {
				continue
			}
			base := argRef.ReplaceAllStringFunc(words[0], func(m string) string {
				sub := argRef.FindStringSubmatch(m)
				if v, ok := args[sub[1]]; ok && v != "" {
					return v
				}
				if sub[2] != "" {
					return sub[2]
				}
				return m
			})
			cur = &stage{Base: base, FromArg: strings.Contains(words[0], "$"), Line: n.StartLine, Workdir: "/"}
			if prev := d.stage(strings.ToLower(base)); prev != nil {
				cur.Workdir = prev.Workdir
			}
			if len(words) >= 3 && strings.EqualFold(words[1], "as") {
				cur.Name = strings.ToLower(words[2])
			}
			d.Stages = append(d.Stages, cur)
		case "workdir":
			if cur != nil && len(words) > 0 {
				cur.Workdir = path.Join(cur.Workdir, words[0])
				if path.IsAbs(words[0]) {
					cur.Workdir = path.Clean(words[0])
				}
			}
		case "user":
			if cur != nil && len(words) > 0 {
				cur.User, cur.UserLine = words[0], n.StartLine
			}
		case "cmd", "entrypoint":
			if cur != nil {
				cur.Start = append(cur.Start, command{Line: n.StartLine, Args: words})
			}
		case "copy", "add":
			if cur != nil && len(words) > 1 {
				cmd := command{Line: n.StartLine, Args: words[:len(words)-1], Dest: path.Join(cur.Workdir, words[len(words)-1])}
				if path.IsAbs(words[len(words)-1]) {
					cmd.Dest = path.Clean(words[len(words)-1])
				}
				for _, fl := range n.Flags {
					if v, ok := strings.CutPrefix(fl, "--from="); ok {
						cmd.From = strings.ToLower(v)
					}
				}
				cur.Copies = append(cur.Copies, cmd)
			}
		case "run":
			if cur != nil {
				cur.Runs = append(cur.Runs, command{Line: n.StartLine, Args: words})
			}
		case "expose":
			if cur != nil {
				cur.Expose = append(cur.Expose, command{Line: n.StartLine, Args: words})
			}
		}
	}
	if len(d.Stages) == 0 {
		return nil, fmt.Errorf("parse %s: no FROM", rel)
	}
	return d, nil
}

// imageRef splits an image reference into name, tag and digest.
func imageRef(ref string) (name, tag, digest string) {
	name, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

// floatingTags are tags that follow a release channel rather than name a
// release.
var floatingTags = map[string]bool{"stable": true, "edge": true, "current": true, "lts": true, "mainline": true, "nightly": true, "rolling": true, "unstable": true, "testing": true, "sid": true, "rc": true, "beta": true}

// languageImages are toolchain images whose major version has not changed
// in years: golang:1 or python:3 follows every minor release.
var languageImages = map[string]bool{"golang": true, "python": true, "rust": true, "ruby": true}

// floatingTag reports whether an image tag moves with new releases: a
// release channel (stable, lts, edge), or for a language toolchain image a
// tag that names no minor version (golang:1-alpine, golang:alpine).
func floatingTag(name, tag string) bool {
	version, _, _ := strings.Cut(tag, "-")
	if floatingTags[version] {
		return true
	}
	if !languageImages[path.Base(name)] {
		return false
	}
	return !strings.Contains(version, ".")
}

// isToolchain reports whether an image is a Go toolchain image.
func isToolchain(image string) bool {
	name, _, _ := imageRef(strings.ToLower(image))
	return name == "golang" || strings.HasSuffix(name, "/golang")
}

// checkDockerfiles runs II4, V1 (CMD, ENTRYPOINT), V2 and V5.
func checkDockerfiles(repo *tf.Repo, c *tf.Collector) []*dockerfile {
	var out []*dockerfile
	for _, rel := range repo.Match(isDockerfile) {
		d, err := parseDockerfile(rel, repo.Read(rel))
		if err != nil {
			c.Notef("Dockerfile rules skip %v", err)
			continue
		}
		if w := d.watcher(); w != "" {
			c.Notef("Dockerfile rules skip %s: it starts %s, a development image that rebuilds on change", rel, w)
			continue
		}
		if p := packaging(rel, repo.Read(rel)); p != "" {
			c.Notef("Dockerfile rules skip %s: it %s, so it packages the program rather than runs it", rel, p)
			continue
		}
		if t := testHarness(repo, rel, repo.Read(rel)); t != "" {
			c.Notef("Dockerfile rules skip %s: it runs %s, a test tool, so it tests the service rather than runs it", rel, t)
			continue
		}
		out = append(out, d)
	}
	composed := composeBuilt(repo)
	for _, d := range out {
		why := needsToolchain(d.Path, d)
		if why != "" {
			c.Notef("V2 skips %s: %s", d.Path, why)
		}
		checkDockerfile(c, d, why == "", devImage(d, out, composed))
	}
	if len(out) == 0 {
		c.NotApplicable("no Dockerfile", "II4", "V2", "V5")
	}
	return out
}

// composeBuilt returns the Dockerfiles that compose files build (build:
// DIR, or context: and dockerfile:), lowercased slash paths relative to
// the repository.
func composeBuilt(repo *tf.Repo) map[string]bool {
	out := make(map[string]bool)
	for _, f := range repo.Match(isCompose) {
		var cf struct {
			Services map[string]struct {
				Build yaml.Node `yaml:"build"`
			} `yaml:"services"`
		}
		if yaml.Unmarshal(repo.Read(f), &cf) != nil {
			continue
		}
		for _, svc := range cf.Services {
			var b struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			}
			switch svc.Build.Kind {
			case yaml.ScalarNode:
				b.Context = svc.Build.Value
			case yaml.MappingNode:
				if svc.Build.Decode(&b) != nil {
					continue
				}
			default:
				continue
			}
			if b.Context == "" {
				b.Context = "."
			}
			if b.Dockerfile == "" {
				b.Dockerfile = "Dockerfile"
			}
			out[strings.ToLower(path.Join(path.Dir(f), b.Context, b.Dockerfile))] = true
		}
	}
	return out
}

// prodImageWords mark a Dockerfile's name as the production image's.
var prodImageWords = map[string]bool{"prod": true, "production": true, "release": true, "deploy": true}

// devImage says why a single-stage Dockerfile on a Go toolchain image is a
// development image rather than the artifact, or "": compose builds it, or
// another Dockerfile is named for production, and another Dockerfile of
// the repository builds in stages onto a runtime base, which is the image
// that is deployed.
func devImage(d *dockerfile, all []*dockerfile, composed map[string]bool) string {
	if len(d.Stages) != 1 || !isToolchain(d.final().Base) {
		return ""
	}
	local := composed[strings.ToLower(d.Path)]
	for _, o := range all {
		if o == d || len(o.Stages) < 2 || !o.buildsGo() || isToolchain(o.final().Base) {
			continue
		}
		named := false
		for _, part := range strings.Split(strings.ToLower(o.Path), "/") {
			for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
				named = named || prodImageWords[w]
			}
		}
		switch {
		case local:
			return "compose builds it for local development, and " + o.Path + " builds the deployed image in stages"
		case named:
			return o.Path + " builds the production image in stages"
		}
	}
	return ""
}

// checkDockerfile checks one parsed Dockerfile; checkToolchain false
// leaves V2 out, and dev, saying why the image is a development one,
// makes V2 advice.
func checkDockerfile(c *tf.Collector, d *dockerfile, checkToolchain bool, dev string) {
	names := make(map[string]*stage)
	for _, s := range d.Stages {
		if names[strings.ToLower(s.Base)] == nil && !strings.Contains(s.Base, "$") && s.Base != "scratch" {
			name, tag, digest := imageRef(s.Base)
			switch {
			case tag == "" && digest == "" && !s.FromArg:
				c.Addf("II4", d.Path, s.Line, "base image %s has no tag", name)
			case tag == "latest" && digest == "":
				c.Addf("II4", d.Path, s.Line, "base image %s uses the latest tag", s.Base)
			case digest == "" && floatingTag(name, tag):
				c.Addf("II4", d.Path, s.Line, "base image %s uses the floating tag %s, which moves to each new release", s.Base, tag)
			}
		}
		if s.Name != "" {
			names[s.Name] = s
		}
	}
	final := d.final()
	// Follow FROM <stage> to the image the final stage really starts from.
	root := final
	for seen := 0; names[strings.ToLower(root.Base)] != nil && seen < len(d.Stages); seen++ {
		root = names[strings.ToLower(root.Base)]
	}
	if checkToolchain && isToolchain(root.Base) {
		switch {
		case len(d.Stages) == 1 && dev != "":
			c.Add(tf.Finding{Rule: "V2", File: d.Path, Line: final.Line, Hardening: true,
				Message: fmt.Sprintf("single-stage build on %s: the image ships the Go toolchain (info: a development image; %s)", root.Base, dev)})
		case len(d.Stages) == 1:
			c.Addf("V2", d.Path, final.Line, "single-stage build on %s: the image ships the Go toolchain", root.Base)
		default:
			c.Addf("V2", d.Path, final.Line, "final stage is based on %s, a Go toolchain image", root.Base)
		}
	}
	for _, cmd := range final.Start {
		if b := buildsAtRunTime(strings.Join(cmd.Args, " ")); b != "" {
			c.Addf("V1", d.Path, cmd.Line, "the start command runs %s", b)
		}
		if how := daemonizes(strings.Join(cmd.Args, " ")); how != "" {
			c.Addf("VIII2", d.Path, cmd.Line, "the start command backgrounds the process with %s", how)
		}
	}
	user, line := "", 0
	for s, n := final, 0; s != nil && n <= len(d.Stages); s, n = names[strings.ToLower(s.Base)], n+1 {
		if s.User != "" {
			user, line = s.User, s.UserLine
			break
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	switch {
	case strings.Contains(user, "$"):
	case user == "":
		if !strings.Contains(root.Base, "nonroot") && !root.FromArg {
			c.Addf("V5", d.Path, final.Line, "the final stage sets no USER, so it runs as root")
		}
	case uid == "0" || uid == "root":
		c.Addf("V5", d.Path, line, "the final stage runs as root (USER %s)", user)
	case strings.Trim(uid, "0123456789") != "":
		c.Addf("V5", d.Path, line, "USER %s is a name; use a numeric uid so runAsNonRoot can be verified", user)
	}
}

// dockerCopies reports whether the final stage of any Dockerfile copies a
// path under dir: from the build context, or from a build stage that holds
// the repository (COPY --from=build /app/migrations ./migrations).
func dockerCopies(ds []*dockerfile, dir string) bool {
	for _, d := range ds {
		for _, cp := range d.final().Copies {
			for _, src := range cp.Args {
				src = path.Clean(strings.TrimPrefix(src, "./"))
				if cp.From == "" && (src == "." || src == dir || strings.HasPrefix(src, dir+"/")) {
					return true
				}
				if cp.From != "" && (src == "/"+dir || strings.HasSuffix(src, "/"+dir) || strings.Contains(src, "/"+dir+"/")) {
					return true
				}
				if cp.From != "" && stageHolds(d.stage(cp.From), dir, src) {
					return true
				}
			}
		}
	}
	return false
}

// stageHolds reports whether the path src of a build stage st holds the
// repository directory dir: the stage copied dir from the build context,
// alone or inside a parent directory (COPY . . under WORKDIR /src puts
// migrations/ at /src/migrations), to src or to a directory under src.
func stageHolds(st *stage, dir, src string) bool {
	if st == nil {
		return false
	}
	src = path.Join("/", src)
	for _, cp := range st.Copies {
		if cp.From != "" || cp.Dest == "" {
			continue
		}
		for _, from := range cp.Args {
			from = path.Clean(strings.TrimPrefix(from, "./"))
			rel := dir
			switch {
			case from == dir:
				rel = ""
			case from != ".":
				r, ok := strings.CutPrefix(dir, from+"/")
				if !ok {
					continue
				}
				rel = r
			}
			at := path.Join(cp.Dest, rel)
			if src == "/" || at == src || strings.HasPrefix(at, src+"/") {
				return true
			}
		}
	}
	return false
}

// packageCommands are the commands of the Debian and Alpine packages
// whose names differ from their commands, or that install several. A
// package missing here provides the command of its own name.
var packageCommands = map[string][]string{
	"subversion":             {"svn", "svnversion", "svnadmin", "svnlook", "svnsync", "svndumpfilter", "svnrdump"},
	"mercurial":              {"hg"},
	"breezy":                 {"bzr", "brz"},
	"bzr":                    {"bzr", "brz"},
	"brz":                    {"bzr", "brz"},
	"imagemagick":            {"convert", "magick", "identify", "mogrify", "composite", "montage", "compare"},
	"graphicsmagick":         {"gm"},
	"poppler-utils":          {"pdftotext", "pdfinfo", "pdftoppm", "pdfimages", "pdftocairo", "pdfunite", "pdfseparate", "pdftohtml", "pdffonts"},
	"poppler":                {"pdftotext", "pdfinfo", "pdftoppm", "pdfimages", "pdftocairo", "pdfunite", "pdfseparate", "pdftohtml", "pdffonts"},
	"ffmpeg":                 {"ffmpeg", "ffprobe"},
	"postgresql":             {"psql", "pg_dump", "pg_restore", "pg_dumpall", "pg_isready", "createdb", "dropdb"},
	"postgresql-client":      {"psql", "pg_dump", "pg_restore", "pg_dumpall", "pg_isready", "createdb", "dropdb"},
	"mysql-client":           {"mysql", "mysqldump", "mysqladmin"},
	"default-mysql-client":   {"mysql", "mysqldump", "mysqladmin"},
	"mariadb-client":         {"mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump"},
	"libreoffice":            {"soffice", "libreoffice"},
	"chromium":               {"chromium", "chromium-browser"},
	"chromium-browser":       {"chromium", "chromium-browser"},
	"exiftool":               {"exiftool"},
	"libimage-exiftool-perl": {"exiftool"},
	"perl-image-exiftool":    {"exiftool"},
	"openssh":                {"ssh", "scp", "sftp", "ssh-keygen", "ssh-keyscan", "ssh-add", "ssh-agent"},
	"openssh-client":         {"ssh", "scp", "sftp", "ssh-keygen", "ssh-keyscan", "ssh-add", "ssh-agent"},
	"openssh-client-default": {"ssh", "scp", "sftp", "ssh-keyscan", "ssh-add", "ssh-agent"},
	"openssh-keygen":         {"ssh-keygen"},
	"git-lfs":                {"git-lfs"},
	"tini":                   {"tini"},
	"ca-certificates":        nil,
	"tzdata":                 nil,
	"graphviz":               {"dot", "neato", "circo", "fdp", "sfdp", "twopi"},
	"ghostscript":            {"gs"},
	"qpdf":                   {"qpdf"},
	"pandoc":                 {"pandoc"},
	"unzip":                  {"unzip", "zipinfo", "funzip"},
	"zip":                    {"zip"},
	"tar":                    {"tar"},
	"curl":                   {"curl"},
	"wget":                   {"wget"},
	"rsync":                  {"rsync"},
	"openssl":                {"openssl"},
	"sqlite":                 {"sqlite3"},
	"sqlite3":                {"sqlite3"},
	"redis":                  {"redis-cli", "redis-server"},
	"redis-tools":            {"redis-cli"},
	"docker-cli":             {"docker"},
	"docker-ce-cli":          {"docker"},
	"docker.io":              {"docker"},
	"kubectl":                {"kubectl"},
	"kubernetes-client":      {"kubectl"},
	"helm":                   {"helm"},
	"procps":                 {"ps", "pgrep", "pkill", "top", "free", "kill"},
	"dnsutils":               {"dig", "nslookup", "nsupdate"},
	"bind-tools":             {"dig", "nslookup", "host"},
	"iputils-ping":           {"ping"},
	"iputils":                {"ping"},
	"netcat-openbsd":         {"nc"},
	"xz-utils":               {"xz", "unxz", "xzcat"},
	"xz":                     {"xz", "unxz", "xzcat"},
	"gnupg":                  {"gpg"},
	"gpg":                    {"gpg"},
	"p7zip-full":             {"7z", "7za"},
	"p7zip":                  {"7z", "7za"},
	"wkhtmltopdf":            {"wkhtmltopdf", "wkhtmltoimage"},
}

// packagePrefixes are package families whose members carry a suffix
// (libreoffice-writer, postgresql-client-16): each provides the family's
// commands.
var packagePrefixes = []string{"libreoffice", "postgresql-client", "postgresql", "mysql-client", "mariadb-client"}

// commandsOf returns the commands a package installs: its table entry,
// that of its family (libreoffice-calc, postgresql16-client), or its own
// name.
func commandsOf(pkg string) []string {
	if cmds, ok := packageCommands[pkg]; ok {
		return cmds
	}
	// Versions in the name: postgresql-client-16, postgresql16-client.
	plain := strings.Trim(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, pkg), "-")
	plain = strings.ReplaceAll(plain, "--", "-")
	if cmds, ok := packageCommands[plain]; ok {
		return cmds
	}
	for _, p := range packagePrefixes {
		if strings.HasPrefix(plain, p+"-") {
			return packageCommands[p]
		}
	}
	return []string{pkg}
}

// installFlagsWithValue are the package manager flags followed by a value.
var installFlagsWithValue = map[string]bool{
	"--virtual": true, "-t": true, "--target-release": true, "--default-release": true, "-o": true, "--option": true,
	"--repository": true, "-X": true, "--root": true, "-p": true, "--keys-dir": true, "--arch": true,
	"--enablerepo": true, "--disablerepo": true, "--setopt": true, "--releasever": true,
}

// shellCommands splits a RUN line into its commands.
var shellCommands = regexp.MustCompile(`&&|\|\||;|\n`)

// installed returns the packages that a RUN line installs with apk add,
// apt-get install, apt install, yum, dnf or microdnf install; their
// version pins (curl=8.5.0-r0) and architectures (:amd64) dropped, and
// the packages of an apk virtual group deleted later (apk del .build-deps)
// left out.
func installed(run string) []string {
	var out []string
	groups := make(map[string][]string) // apk add --virtual NAME: its packages
	for _, cmd := range shellCommands.Split(run, -1) {
		f := strings.Fields(cmd)
		i := 0
		for i < len(f) && (f[i] == "sudo" || strings.Contains(f[i], "=") && !strings.HasPrefix(f[i], "-")) {
			i++ // sudo, DEBIAN_FRONTEND=noninteractive
		}
		if i >= len(f) {
			continue
		}
		mgr := path.Base(f[i])
		// The subcommand, after any flags (apk --no-cache add, apt-get -y
		// install).
		j := i + 1
		for j < len(f) && strings.HasPrefix(f[j], "-") {
			if installFlagsWithValue[f[j]] {
				j++
			}
			j++
		}
		if j >= len(f) {
			continue
		}
		sub := f[j]
		switch {
		case mgr == "apk" && sub == "del":
			for _, w := range f[j+1:] {
				drop := append(groups[w], w)
				out = slices.DeleteFunc(out, func(p string) bool { return slices.Contains(drop, p) })
			}
			continue
		case mgr == "apk" && sub == "add",
			(mgr == "apt-get" || mgr == "apt" || mgr == "aptitude") && sub == "install",
			(mgr == "yum" || mgr == "dnf" || mgr == "microdnf" || mgr == "zypper") && sub == "install":
		default:
			continue
		}
		group := ""
		for j++; j < len(f); j++ {
			w := strings.Trim(f[j], `"'`)
			if installFlagsWithValue[w] {
				if (w == "--virtual" || w == "-t") && mgr == "apk" && j+1 < len(f) {
					group = f[j+1]
				}
				j++
				continue
			}
			if strings.HasPrefix(w, "--virtual=") {
				group = strings.TrimPrefix(w, "--virtual=")
			}
			if strings.HasPrefix(w, "-") || w == "" || strings.ContainsAny(w, "$/") {
				continue
			}
			w, _, _ = strings.Cut(w, "=")
			w, _, _ = strings.Cut(w, ":")
			w = strings.TrimRight(w, "<>~")
			if group != "" {
				groups[group] = append(groups[group], w)
			}
			out = append(out, w)
		}
	}
	return out
}

// providedTools returns a test for the system tools the final stages of
// the service's Dockerfiles install (apk add, apt-get install, under the
// package's name or one of its commands) or copy in.
func providedTools(docker []*dockerfile) func(tool string) bool {
	var text strings.Builder
	commands := make(map[string]bool)
	for _, d := range docker {
		for _, r := range d.final().Runs {
			run := strings.ToLower(strings.Join(r.Args, " "))
			text.WriteString(run + "\n")
			for _, pkg := range installed(run) {
				for _, cmd := range commandsOf(pkg) {
					commands[cmd] = true
				}
			}
		}
		for _, cp := range d.final().Copies {
			text.WriteString(strings.ToLower(strings.Join(cp.Args, " ")) + "\n")
		}
		text.WriteString(strings.ToLower(d.final().Base) + "\n")
		for _, cmd := range baseCommands(d.final().Base) {
			commands[cmd] = true
		}
	}
	all := text.String()
	return func(tool string) bool {
		tool = strings.ToLower(tool)
		if commands[tool] {
			return true
		}
		// The tool's name as a word of a command, a copied path or the
		// base image (curl -o /usr/local/bin/kubectl, COPY --from=x
		// /usr/bin/ffmpeg): not inside another word (imagemagick is not
		// magick).
		for i := strings.Index(all, tool); i >= 0; {
			end := i + len(tool)
			if (i == 0 || !wordByte(all[i-1])) && (end == len(all) || !wordByte(all[end])) {
				return true
			}
			next := strings.Index(all[i+1:], tool)
			if next < 0 {
				break
			}
			i += 1 + next
		}
		return false
	}
}

// wordByte reports whether b continues a command name.
func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

// buildEnvDirs are directories that hold build environments: images
// that build the program, which need the toolchain.
var buildEnvDirs = map[string]bool{"develop": true, "dev": true, "development": true, "devenv": true, "buildenv": true, "build-env": true, "builder": true, "toolchain": true}

// toolchainWords name programs whose work needs the Go toolchain at run
// time: a module proxy, a code generator.
var toolchainWords = map[string]bool{"goproxy": true, "athens": true, "codegen": true, "generator": true}

// toolingWords are words of a Dockerfile's name or directories that name
// a development tool's image: linting, vendoring, validation, checks,
// documentation, code generation, CI and tests run the toolchain by
// purpose (lint.Dockerfile, Dockerfile.vendor, dockerfiles/validate/).
var toolingWords = map[string]bool{
	"lint": true, "linter": true, "golangci": true, "vendor": true, "validate": true, "validation": true,
	"check": true, "checks": true, "docs": true, "generate": true, "gen": true, "codegen": true, "ci": true, "test": true,
}

// needsToolchain says why an image's purpose needs the Go toolchain, or
// "": it is a build environment (docker/develop/), its directory or name
// says module proxy, code generator or another development tool (lint,
// vendor, validate, docs, ci), its start command is go, or its
// final stage takes a toolchain image again after a stage that built the
// program (a choice, not an oversight).
func needsToolchain(rel string, d *dockerfile) string {
	dirs := strings.Split(strings.ToLower(rel), "/")
	for _, dir := range dirs[:len(dirs)-1] {
		if buildEnvDirs[dir] {
			return "it is in " + dir + "/, a build environment"
		}
	}
	for _, part := range dirs {
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
			if toolchainWords[w] {
				return "it is named for " + w + ", whose work needs the Go toolchain"
			}
			if toolingWords[w] {
				return "it is named for " + w + ", a development tool's image that needs the Go toolchain"
			}
		}
	}
	final := d.final()
	for _, cmd := range final.Start {
		if len(cmd.Args) > 0 {
			if f := strings.Fields(cmd.Args[0]); len(f) > 0 && (f[0] == "go" || toolchainWords[path.Base(f[0])]) {
				return "its start command runs " + f[0] + ", which needs the Go toolchain"
			}
		}
	}
	if len(d.Stages) > 1 && isToolchain(final.Base) {
		for _, s := range d.Stages[:len(d.Stages)-1] {
			for _, r := range s.Runs {
				if strings.Contains(strings.Join(r.Args, " "), "go build") {
					for _, cp := range final.Copies {
						if cp.From == s.Name && s.Name != "" {
							return "its final stage takes " + final.Base + " again after building in stage " + s.Name + ": the program it runs needs the toolchain"
						}
					}
				}
			}
		}
	}
	return ""
}

// buildsGo reports whether a Dockerfile builds a Go program: a stage on a
// Go toolchain image, or a go build or go install.
func (d *dockerfile) buildsGo() bool {
	for _, s := range d.Stages {
		if isToolchain(s.Base) {
			return true
		}
		for _, r := range s.Runs {
			if cmd := strings.Join(r.Args, " "); strings.Contains(cmd, "go build") || strings.Contains(cmd, "go install") {
				return true
			}
		}
	}
	return false
}

// packagingDirs are directories that hold the build of operating system
// packages.
var packagingDirs = map[string]bool{"packaging": true, "debian": true, "deb": true, "rpm": true, "pkgbuild": true, "snap": true, "flatpak": true}

// packagers are the commands that build operating system packages.
var packagers = regexp.MustCompile(`(?:^|[\s/;&|])(dpkg-buildpackage|debuild|dpkg-deb|fpm|rpmbuild|nfpm|makepkg|snapcraft|pbuilder|sbuild)(?:\s|$)`)

// packaging says why a Dockerfile builds an operating system package (a
// .deb or .rpm) rather than the image that runs the service, or "": its
// directory or name says packaging, or it runs a package builder.
func packaging(rel string, data []byte) string {
	dirs := strings.Split(strings.ToLower(rel), "/")
	for _, d := range dirs[:len(dirs)-1] {
		if packagingDirs[d] {
			return "is in " + d + "/"
		}
	}
	for _, w := range strings.FieldsFunc(tf.Base(rel), func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		if w == "deb" || w == "rpm" || w == "package" || w == "packaging" {
			return "is named for " + w
		}
	}
	for _, l := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "#") {
			if m := packagers.FindStringSubmatch(t); m != nil {
				return "runs " + m[1]
			}
		}
	}
	return ""
}

// watchers are the file watchers that rebuild a Go program on change.
var watchers = map[string]bool{"reflex": true, "air": true, "compiledaemon": true, "nodemon": true, "modd": true, "gow": true, "watchexec": true, "realize": true, "fresh": true}

// watcher returns the file watcher the final stage starts, if any: such an
// image is a development environment (docker/app beside docker/app-prod).
func (d *dockerfile) watcher() string {
	for _, cmd := range d.final().Start {
		if len(cmd.Args) == 0 {
			continue
		}
		if name := strings.ToLower(path.Base(strings.Fields(cmd.Args[0])[0])); watchers[name] {
			return name
		}
	}
	return ""
}

// busyboxCommands are commands every Alpine and BusyBox image has: BusyBox
// provides them.
var busyboxCommands = strings.Fields(`sh ash cat cp mv rm ln ls mkdir rmdir chmod chown touch find grep
	egrep sed awk tar gzip gunzip zcat unzip wget ps kill mount umount df du
	hostname id whoami date sleep env nc nslookup ping head tail sort uniq
	wc tr cut xargs tee which stat sync uname dd test true false`)

// debianCommands are commands every Debian and Ubuntu image has (coreutils,
// util-linux, findutils, grep, sed, tar, gzip, bash).
var debianCommands = strings.Fields(`sh bash dash cat cp mv rm ln ls mkdir rmdir chmod chown touch find
	xargs grep egrep sed tar gzip gunzip zcat mount umount df du hostname
	id whoami date sleep env head tail sort uniq wc tr cut tee stat sync
	uname dd test true false kill mktemp`)

// baseCommands returns the commands an image's base provides before any
// package is installed: BusyBox's on Alpine and BusyBox, the essential
// packages' on Debian and Ubuntu, none on distroless or scratch.
func baseCommands(base string) []string {
	name, _, _ := imageRef(strings.ToLower(base))
	switch path.Base(name) {
	case "alpine", "busybox":
		return busyboxCommands
	case "debian", "ubuntu":
		return debianCommands
	}
	return nil
}
