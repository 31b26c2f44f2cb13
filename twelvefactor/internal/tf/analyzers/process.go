package analyzers

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"net"
	"path"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// fixedPath returns the path an expression names when it is fixed in the
// code: a constant, or a filepath.Join or path.Join whose first element is
// a constant.
func fixedPath(pass *analysis.Pass, e ast.Expr) (string, bool) {
	if s, ok := constString(pass, e); ok {
		return s, true
	}
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return "", false
	}
	fn, ok := calleeFunc(pass, call)
	if !ok || (!isFunc(fn, "path/filepath", "Join") && !isFunc(fn, "path", "Join")) {
		return "", false
	}
	return fixedPath(pass, call.Args[0])
}

// calleeFunc returns the function a call calls, if static.
func calleeFunc(pass *analysis.Pass, call *ast.CallExpr) (*types.Func, bool) {
	var id *ast.Ident
	switch f := call.Fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return nil, false
	}
	fn, ok := pass.TypesInfo.Uses[id].(*types.Func)
	return fn, ok
}

// scratchPath reports whether a path is under a temp or device directory.
func scratchPath(p string) bool {
	p = path.Clean(p)
	for _, dir := range []string{"/tmp", "/var/tmp", "/dev"} {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// writeFlags are the os.OpenFile flags that write.
const writeFlags = 0x1 | 0x2 | 0x40 | 0x400 // O_WRONLY, O_RDWR, O_CREATE, O_APPEND on Linux

// LocalWrite is the VI1 analyzer: writes to fixed local paths. Paths built
// from config, os.TempDir or os.MkdirTemp are not fixed and not reported.
var LocalWrite = &analysis.Analyzer{
	Name: "localwrite",
	Doc:  "VI1: report writes to fixed paths on the local filesystem",
	Run: func(pass *analysis.Pass) (any, error) {
		calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
			if !isFunc(fn, "os", "Create", "WriteFile", "OpenFile", "Mkdir", "MkdirAll") || len(call.Args) == 0 {
				return
			}
			if fn.Name() == "OpenFile" && len(call.Args) >= 2 {
				tv := pass.TypesInfo.Types[call.Args[1]]
				if tv.Value == nil {
					return // flags unknown
				}
				if flags, ok := int64Val(tv); ok && flags&writeFlags == 0 {
					return // read only
				}
			}
			p, ok := fixedPath(pass, call.Args[0])
			if !ok || scratchPath(p) || p == "" {
				return
			}
			report(pass, "VI1", call, "os.%s writes to the fixed local path %q", fn.Name(), p)
		})
		return nil, nil
	},
}

// ListenAddr is the VII1 analyzer: listen addresses with a fixed port.
var ListenAddr = &analysis.Analyzer{
	Name: "listenaddr",
	Doc:  "VII1: report listen addresses with a constant port",
	Run: func(pass *analysis.Pass) (any, error) {
		fixedPort := func(e ast.Expr) (string, bool) {
			s, ok := constString(pass, e)
			if !ok {
				return "", false
			}
			_, port, err := net.SplitHostPort(s)
			return s, err == nil && port != "" && port != "0"
		}
		acme := importsACME(pass.Pkg)
		// fixed reports whether a listen address is the ACME challenge
		// port, which the protocol fixes: :80 for http-01 (the
		// handler is the certificate manager's HTTPHandler, or the
		// package uses an ACME client), :443 for tls-alpn-01.
		challenge := func(addr string, handler ast.Expr) bool {
			_, port, _ := net.SplitHostPort(addr)
			if port != "80" && port != "443" && port != "http" && port != "https" {
				return false
			}
			return acme || acmeHandler(handler)
		}
		calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
			arg := -1
			switch {
			case isFunc(fn, "net/http", "ListenAndServe", "ListenAndServeTLS"):
				arg = 0
			case isFunc(fn, "net", "Listen", "ListenPacket"), isFunc(fn, "crypto/tls", "Listen"):
				arg = 1
			case isMethod(fn, "net.ListenConfig", "Listen", "ListenPacket"):
				arg = 2
			}
			if arg < 0 || arg >= len(call.Args) {
				return
			}
			if s, ok := fixedPort(call.Args[arg]); ok {
				var handler ast.Expr
				if arg == 0 && len(call.Args) > 1 {
					handler = call.Args[len(call.Args)-1]
				}
				if challenge(s, handler) {
					return
				}
				report(pass, "VII1", call.Args[arg], "listens on the fixed address %q", s)
			}
		})
		visit(pass, func(n ast.Node, _ *ast.FuncDecl, _ *ast.File) {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return
			}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				id, ok := kv.Key.(*ast.Ident)
				if !ok || id.Name != "Addr" {
					continue
				}
				v, ok := pass.TypesInfo.Uses[id].(*types.Var)
				if !ok || v.Pkg() == nil || v.Pkg().Path() != "net/http" {
					continue
				}
				if s, ok := fixedPort(kv.Value); ok && !challenge(s, fieldValue(lit, "Handler")) {
					report(pass, "VII1", kv.Value, "http.Server listens on the fixed address %q", s)
				}
			}
		})
		return nil, nil
	},
}

// acmeImports are ACME clients: a package that uses one answers the
// certificate authority's challenges on the ports the protocol fixes.
var acmeImports = []string{"golang.org/x/crypto/acme", "github.com/caddyserver/certmagic", "github.com/go-acme/lego", "github.com/mholt/certmagic"}

// importsACME reports whether a package imports an ACME client.
func importsACME(pkg *types.Package) bool {
	for _, imp := range pkg.Imports() {
		for _, a := range acmeImports {
			if imp.Path() == a || strings.HasPrefix(imp.Path(), a+"/") {
				return true
			}
		}
	}
	return false
}

// acmeHandler reports whether a handler expression is an ACME challenge
// handler: m.HTTPHandler(nil), as autocert and certmagic name it.
func acmeHandler(e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && (sel.Sel.Name == "HTTPHandler" || sel.Sel.Name == "HTTPChallengeHandler")
}

// fieldValue returns the value a composite literal gives the field, or
// nil.
func fieldValue(lit *ast.CompositeLit, field string) ast.Expr {
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == field {
				return kv.Value
			}
		}
	}
	return nil
}

// Signals returns the IX1 analyzer: signal.Notify and signal.NotifyContext
// must ask for SIGTERM and cannot catch SIGKILL, and a main package that
// serves HTTP or gRPC must handle signals somewhere (handles says whether
// os/signal is in its import graph; nil skips that check). Signals asked
// for in several statements (Notify(c, os.Interrupt) then Notify(c,
// syscall.SIGTERM)) count together: SIGINT alone is reported only when no
// statement of the package asks for SIGTERM. A handler that receives the
// signal and exits (os.Exit, log.Fatal) without stopping the servers
// started in the same package cuts their requests and is reported too.
func Signals(handles func(pkgPath string) bool) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "signals",
		Doc:  "IX1: report signal handling that misses SIGTERM or asks for os.Kill, and servers that handle no signals",
		Run: func(pass *analysis.Pass) (any, error) {
			var serve *ast.CallExpr
			var interruptOnly []*ast.CallExpr
			term := false
			channels := make(map[types.Object]bool) // the channels signals are delivered to
			calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
				if _, serves, _ := serverCall(fn); serve == nil && (serves || unstoppable(fn)) {
					serve = call
				}
				if !isFunc(fn, "os/signal", "Notify", "NotifyContext") || len(call.Args) < 2 || call.Ellipsis.IsValid() {
					return
				}
				if fn.Name() == "Notify" {
					if id, ok := ast.Unparen(call.Args[0]).(*ast.Ident); ok && pass.TypesInfo.Uses[id] != nil {
						channels[pass.TypesInfo.Uses[id]] = true
					}
				}
				var interrupt, asksTerm bool
				for _, a := range call.Args[1:] {
					switch signalName(pass, a) {
					case "Interrupt", "SIGINT":
						interrupt = true
					case "SIGTERM":
						asksTerm = true
					case "Kill", "SIGKILL", "SIGSTOP":
						report(pass, "IX1", a, "%s cannot be caught; asking for it does nothing", exprName(a))
					case "":
						asksTerm = true // a signal we cannot name: assume the best
					}
				}
				term = term || asksTerm
				if interrupt && !asksTerm {
					interruptOnly = append(interruptOnly, call)
				}
			})
			if !term {
				for _, call := range interruptOnly {
					fn, _ := calleeFunc(pass, call)
					report(pass, "IX1", call, "signal.%s asks for SIGINT but not SIGTERM, the signal platforms stop processes with", fn.Name())
				}
			}
			if serve != nil && pass.Pkg.Name() == "main" && handles != nil && !handles(pass.Pkg.Path()) {
				report(pass, "IX1", serve, "this program serves requests but nothing in it imports os/signal, so SIGTERM kills it mid-request")
			}
			if serve != nil && len(channels) > 0 {
				reportExitingHandlers(pass, channels)
			}
			return nil, nil
		},
	}
}

// reportExitingHandlers reports the statements that run after a signal
// arrives on one of the channels and end the process (os.Exit, log.Fatal)
// before anything could stop a server: no Shutdown, GracefulStop or Stop,
// no call into the module's own code (a stop helper) and no cancel
// function called first.
func reportExitingHandlers(pass *analysis.Pass, channels map[types.Object]bool) {
	isSignal := func(e ast.Expr) bool {
		u, ok := ast.Unparen(e).(*ast.UnaryExpr)
		if !ok || u.Op != token.ARROW {
			return false
		}
		id, ok := ast.Unparen(u.X).(*ast.Ident)
		return ok && channels[pass.TypesInfo.Uses[id]]
	}
	receives := func(st ast.Stmt) bool {
		switch st := st.(type) {
		case *ast.ExprStmt:
			return isSignal(st.X)
		case *ast.AssignStmt:
			return len(st.Rhs) == 1 && isSignal(st.Rhs[0])
		}
		return false
	}
	// check reports the first exit in after that no stop precedes, and
	// reports whether a stop comes before any exit. A goroutine started
	// from a function literal runs apart from the handler and stops
	// nothing in its order.
	check := func(after []ast.Stmt) bool {
		stops := false
		for _, st := range after {
			var exit *ast.CallExpr
			ast.Inspect(st, func(n ast.Node) bool {
				if exit != nil || stops {
					return false
				}
				switch n := n.(type) {
				case *ast.FuncLit:
					return false
				case *ast.GoStmt:
					if _, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
						return false
					}
				case *ast.CallExpr:
					if mayStop(pass, n) {
						stops = true
						return false
					}
					if fn, ok := typeutil.Callee(pass.TypesInfo, n).(*types.Func); ok && isExit(fn) {
						exit = n
					}
				}
				return true
			})
			if stops {
				return true
			}
			if exit != nil {
				report(pass, "IX1", exit, "after the stop signal this handler exits the process without shutting the servers down, so SIGTERM still cuts requests mid-flight")
				return false
			}
		}
		return false
	}
	// hatches are the bodies of goroutines that a handler which stops the
	// servers starts after the signal: they wait for a second signal and
	// exit at once, the escape hatch of a shutdown that hangs.
	hatches := make(map[*ast.BlockStmt]bool)
	for _, file := range pass.Files {
		if ast.IsGenerated(file) {
			continue
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BlockStmt:
				if hatches[n] {
					return true
				}
				for i, st := range n.List {
					if receives(st) && check(n.List[i+1:]) {
						markHatches(n.List[i+1:], hatches)
					}
				}
			case *ast.CommClause:
				if n.Comm != nil && receives(n.Comm) && check(n.Body) {
					markHatches(n.Body, hatches)
				}
			}
			return true
		})
	}
}

// markHatches adds to hatches the bodies of the function literals that
// the statements start as goroutines.
func markHatches(stmts []ast.Stmt, hatches map[*ast.BlockStmt]bool) {
	for _, st := range stmts {
		if g, ok := st.(*ast.GoStmt); ok {
			if lit, ok := ast.Unparen(g.Call.Fun).(*ast.FuncLit); ok {
				hatches[lit.Body] = true
			}
		}
	}
}

// mayStop reports whether a call may stop a server: a method named like a
// graceful stop, a call of a function value (a cancel function), or a call
// of the analyzed module's own code, which this analyzer does not follow.
func mayStop(pass *analysis.Pass, call *ast.CallExpr) bool {
	var fn *types.Func
	switch callee := typeutil.Callee(pass.TypesInfo, call).(type) {
	case *types.Func:
		fn = callee
	case *types.Builtin:
		return false
	case *types.Var:
		return true // a function value: cancel(), stop()
	default:
		tv, ok := pass.TypesInfo.Types[call.Fun]
		return !ok || !tv.IsType() // a conversion stops nothing
	}
	switch fn.Name() {
	case "Shutdown", "GracefulStop", "Stop", "ShutdownWithContext", "ShutdownWithTimeout", "Drain":
		return true
	}
	return sameModule(pass, fn) && !isExit(fn)
}

// signalName returns the name of an os or syscall signal expression, "" if
// unknown, or "other".
func signalName(pass *analysis.Pass, e ast.Expr) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	obj := pass.TypesInfo.Uses[sel.Sel]
	if obj == nil || obj.Pkg() == nil {
		return ""
	}
	switch obj.Pkg().Path() {
	case "os", "syscall", "golang.org/x/sys/unix":
		return obj.Name()
	}
	return ""
}

// server is a server type: the methods that serve and those that stop it
// gracefully.
type server struct {
	typ         string // "pkgpath.Type"
	serve, stop []string
}

// servers are the server types IX2 and IX1 know.
var servers = []server{
	{"net/http.Server", []string{"ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS"}, []string{"Shutdown"}},
	{"google.golang.org/grpc.Server", []string{"Serve"}, []string{"GracefulStop"}},
	{"github.com/labstack/echo/v4.Echo", []string{"Start", "StartTLS", "StartAutoTLS", "StartServer", "StartH2CServer"}, []string{"Shutdown"}},
	{"github.com/labstack/echo.Echo", []string{"Start", "StartTLS", "StartServer"}, []string{"Shutdown"}},
	{"github.com/gofiber/fiber/v2.App", []string{"Listen", "ListenTLS", "Listener"}, []string{"Shutdown", "ShutdownWithContext", "ShutdownWithTimeout"}},
	{"github.com/gofiber/fiber/v3.App", []string{"Listen", "Listener"}, []string{"Shutdown", "ShutdownWithContext", "ShutdownWithTimeout"}},
	// An HTTP/2 connection served on its own is drained only by the
	// http.Server it was configured with.
	{"golang.org/x/net/http2.Server", []string{"ServeConn"}, nil},
}

// serverCall says whether fn serves or stops one of the servers.
func serverCall(fn *types.Func) (srv *server, serves, stops bool) {
	t := recvType(fn)
	for i := range servers {
		if servers[i].typ != t {
			continue
		}
		return &servers[i], slices.Contains(servers[i].serve, fn.Name()), slices.Contains(servers[i].stop, fn.Name())
	}
	return nil, false, false
}

// otherModule reports whether fn belongs to a module other than the one
// analyzed and is not in the standard library or a server's own package.
func otherModule(pass *analysis.Pass, fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	p := fn.Pkg().Path()
	if !strings.Contains(strings.Split(p, "/")[0], ".") {
		return false // the standard library
	}
	if strings.HasPrefix(fn.Name(), "Register") {
		return false // pb.RegisterFooServer(srv, …): generated, it never stops a server
	}
	for _, srv := range servers {
		// The server's own packages: echo, grpc/health, grpc/reflection.
		own := srv.typ[:strings.LastIndex(srv.typ, ".")]
		if p == own || strings.HasPrefix(p, own+"/") {
			return false
		}
	}
	module := strings.Split(pass.Pkg.Path(), "/")[0] // GOPATH mode: the first element
	if pass.Module != nil && pass.Module.Path != "" {
		module = pass.Module.Path
	}
	return p != module && !strings.HasPrefix(p, module+"/")
}

// receiverObj returns the variable a method call is made on, or nil.
func receiverObj(pass *analysis.Pass, call *ast.CallExpr) types.Object {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	id, ok := ast.Unparen(sel.X).(*ast.Ident)
	if !ok {
		return nil
	}
	return pass.TypesInfo.Uses[id]
}

// recvName returns a method's receiver type as code names it: http.Server.
func recvName(fn *types.Func) string {
	t := fn.Signature().Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
		return n.Obj().Pkg().Name() + "." + n.Obj().Name()
	}
	return t.String()
}

// unstoppable reports whether fn serves in a way that no method can stop:
// http.ListenAndServe and gin's Run.
func unstoppable(fn *types.Func) bool {
	return isFunc(fn, "net/http", "ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS") ||
		isMethod(fn, "github.com/gin-gonic/gin.Engine", "Run", "RunTLS", "RunUnix", "RunFd", "RunListener")
}

// StopsServers reports whether the type-checked code stops any server
// gracefully (http.Server.Shutdown, grpc's GracefulStop, echo's and
// fiber's Shutdown), for the program-wide view of IX2.
func StopsServers(info *types.Info) bool {
	for _, obj := range info.Uses {
		if fn, ok := obj.(*types.Func); ok {
			if _, _, stops := serverCall(fn); stops {
				return true
			}
		}
	}
	return false
}

// SyntaxStopsServers reports whether the files call a method named like a
// graceful stop (Shutdown, GracefulStop), whatever its receiver: the
// program-wide view of IX2 for code that does not type-check.
func SyntaxStopsServers(files []*ast.File) bool {
	found := false
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					switch sel.Sel.Name {
					case "Shutdown", "GracefulStop", "ShutdownWithContext", "ShutdownWithTimeout":
						found = true
					}
				}
			}
			return !found
		})
	}
	return found
}

// devNote is the note of a listener that a development setting starts.
const devNote = "a development setting starts this listener, a local server rather than the service's"

// devSetting matches the names of settings that turn on a development
// mode: dev, devMode, development, cfg.Dev, devAddr.
var devSetting = regexp.MustCompile(`(?i)^(is_?)?dev(elopment)?(_?(mode|addr|address|server|listen))?$`)

// devGuarded returns the nodes inside the body of an if statement whose
// condition names a development setting (if *dev != "" {…}, if
// cfg.DevMode {…}): a local development server of the same program.
func devGuarded(pass *analysis.Pass) map[ast.Node]bool {
	guarded := make(map[ast.Node]bool)
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			ifs, ok := n.(*ast.IfStmt)
			if !ok {
				return true
			}
			names := false
			ast.Inspect(ifs.Cond, func(c ast.Node) bool {
				if id, ok := c.(*ast.Ident); ok && devSetting.MatchString(id.Name) {
					names = true
				}
				return !names
			})
			if names {
				ast.Inspect(ifs.Body, func(m ast.Node) bool {
					if m != nil {
						guarded[m] = true
					}
					return true
				})
			}
			return true
		})
	}
	return guarded
}

// Shutdown returns the IX2 analyzer: servers that cannot shut down
// gracefully: http.ListenAndServe and gin's Run, and an http.Server,
// grpc.Server, echo or fiber server started where nothing stops it. A
// server stopped by another package of the same program (shutsDown says
// so; nil means no program-wide view) is stopped.
func Shutdown(shutsDown func(pkgPath string) bool) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "shutdown",
		Doc:  "IX2: report http.ListenAndServe and servers never shut down",
		Run: func(pass *analysis.Pass) (any, error) {
			type start struct {
				call *ast.CallExpr
				srv  *server
				name string // http.Server
			}
			var starts []start
			stopped := make(map[string]bool)
			// handed are the variables passed to a function of another
			// module: a server handed to a library's helper
			// (routing.GracefulShutdown(srv, …)) may be stopped there, in
			// code this run does not read. The program-wide view covers
			// helpers of this module.
			handed := make(map[types.Object]bool)
			// In a program whose server shuts down gracefully, a bare
			// http.Serve in a command package (shiori open) is a
			// subcommand's local viewer, not the service.
			subcommand := usesCLIFramework(pass.Pkg)
			dev := devGuarded(pass)
			calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
				for _, a := range call.Args {
					if !otherModule(pass, fn) {
						break
					}
					if u, ok := ast.Unparen(a).(*ast.UnaryExpr); ok && u.Op == token.AND {
						a = u.X
					}
					if id, ok := ast.Unparen(a).(*ast.Ident); ok {
						if obj := pass.TypesInfo.Uses[id]; obj != nil {
							handed[obj] = true
						}
					}
				}
				if unstoppable(fn) {
					switch {
					case subcommand && shutsDown != nil && shutsDown(pass.Pkg.Path()):
					case dev[call]:
						reportInfo(pass, "IX2", call, devNote, "%s.%s cannot be shut down gracefully", fn.Pkg().Name(), fn.Name())
					default:
						report(pass, "IX2", call, "%s.%s cannot be shut down gracefully", fn.Pkg().Name(), fn.Name())
					}
					return
				}
				srv, serves, stops := serverCall(fn)
				switch {
				case serves:
					starts = append(starts, start{call, srv, recvName(fn)})
				case stops:
					stopped[srv.typ] = true
				}
			})
			program := shutsDown != nil && shutsDown(pass.Pkg.Path())
			for _, s := range starts {
				if stopped[s.srv.typ] || program || handed[receiverObj(pass, s.call)] {
					continue
				}
				format, args := "%s is started but nothing in this program calls its %s", []any{s.name, ""}
				if len(s.srv.stop) == 0 {
					format, args = "%s serves connections that no Shutdown in this program drains", args[:1]
				} else {
					args[1] = s.srv.stop[0]
				}
				if dev[s.call] {
					reportInfo(pass, "IX2", s.call, devNote, format, args...)
					continue
				}
				report(pass, "IX2", s.call, format, args...)
			}
			return nil, nil
		},
	}
}

// isExit reports whether fn ends the process.
func isExit(fn *types.Func) bool {
	switch {
	case isFunc(fn, "os", "Exit"), isFunc(fn, "syscall", "Exit"),
		isFunc(fn, "log", "Fatal", "Fatalf", "Fatalln"),
		isMethod(fn, "log.Logger", "Fatal", "Fatalf", "Fatalln"):
		return true
	}
	t := recvType(fn)
	for _, p := range []string{"go.uber.org/zap.", "github.com/sirupsen/logrus.", "k8s.io/klog"} {
		if strings.HasPrefix(t, p) && strings.HasPrefix(fn.Name(), "Fatal") {
			return true
		}
	}
	return fn.Pkg() != nil && strings.HasPrefix(fn.Pkg().Path(), "k8s.io/klog") && strings.HasPrefix(fn.Name(), "Fatal") && fn.Signature().Recv() == nil
}

// Exit is the IX5 analyzer: log.Fatal and os.Exit outside func main.
var Exit = &analysis.Analyzer{
	Name: "exit",
	Doc:  "IX5: report log.Fatal and os.Exit outside func main",
	Run: func(pass *analysis.Pass) (any, error) {
		calls(pass, func(call *ast.CallExpr, fn *types.Func, decl *ast.FuncDecl) {
			if isExit(fn) && !isMainFunc(pass, decl) {
				where := "outside func main"
				if decl != nil {
					where = "in " + decl.Name.Name
				}
				report(pass, "IX5", call, "%s.%s exits the process %s, skipping deferred cleanup", fn.Pkg().Name(), fn.Name(), where)
			}
		})
		return nil, nil
	},
}

// logFileImports are packages that write logs to files or syslog.
var logFileImports = map[string]string{
	"log/syslog":                              "syslog",
	"gopkg.in/natefinch/lumberjack.v2":        "log file rotation",
	"github.com/natefinch/lumberjack":         "log file rotation",
	"github.com/lestrrat-go/file-rotatelogs":  "log file rotation",
	"github.com/sirupsen/logrus/hooks/syslog": "syslog",
}

// logOutputs are the calls whose first argument is where logs go.
var logOutputs = []struct {
	pkg, recv string // recv "" for a package-level function
	names     []string
}{
	{"log", "", []string{"SetOutput", "New"}},
	{"log", "log.Logger", []string{"SetOutput"}},
	{"log/slog", "", []string{"NewJSONHandler", "NewTextHandler"}},
	{"github.com/sirupsen/logrus", "", []string{"SetOutput"}},
	{"github.com/sirupsen/logrus", "github.com/sirupsen/logrus.Logger", []string{"SetOutput"}},
}

// logOutput reports whether fn takes the log destination as its first
// argument.
func logOutput(fn *types.Func) bool {
	for _, o := range logOutputs {
		if (o.recv == "" && isFunc(fn, o.pkg, o.names...)) || (o.recv != "" && isMethod(fn, o.recv, o.names...)) {
			return true
		}
	}
	return false
}

// LogFiles is the XI1 analyzer: imports of log file and syslog packages,
// and loggers pointed at an *os.File other than stdout and stderr.
var LogFiles = &analysis.Analyzer{
	Name: "logfiles",
	Doc:  "XI1: report packages that write logs to files or syslog",
	Run: func(pass *analysis.Pass) (any, error) {
		for _, f := range pass.Files {
			if ast.IsGenerated(f) {
				continue
			}
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, "\"")
				if what, ok := logFileImports[p]; ok && !onlyGuardedUses(pass, p) {
					report(pass, "XI1", imp, "imports %s (%s); logs belong on stdout", p, what)
				}
			}
		}
		guarded := settingGuarded(pass)
		calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
			if !logOutput(fn) || len(call.Args) == 0 || guarded[call] {
				return // a log file only when a flag or setting names one
			}
			arg := call.Args[0]
			if !isOSFile(pass.TypesInfo.TypeOf(arg)) || isStdStream(pass, arg) {
				return
			}
			report(pass, "XI1", call, "%s.%s sends the logs to the file %s", fn.Pkg().Name(), fn.Name(), types.ExprString(arg))
		})
		return nil, nil
	},
}

// settingGuarded returns the nodes of the package that run only when a
// setting says so: inside the body or else branch of an if statement or
// in a case of a switch statement (not in the if's condition, so that
// if err := f(); err != nil still counts f as unguarded).
func settingGuarded(pass *analysis.Pass) map[ast.Node]bool {
	guarded := make(map[ast.Node]bool)
	mark := func(n ast.Node) {
		if n == nil || guarded[n] {
			return
		}
		ast.Inspect(n, func(m ast.Node) bool {
			if m != nil {
				guarded[m] = true
			}
			return true
		})
	}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.IfStmt:
				mark(n.Body)
				if n.Else != nil {
					mark(n.Else)
				}
			case *ast.SwitchStmt:
				mark(n.Body)
			case *ast.BlockStmt:
				// if !cfg.Enabled { return } guards the rest of the
				// block as an if statement's body would.
				for i, st := range n.List {
					if settingOffReturn(st) {
						for _, rest := range n.List[i+1:] {
							mark(rest)
						}
						break
					}
				}
			}
			return true
		})
	}
	return guarded
}

// settingOffReturn reports whether st is an early return when a setting is
// off: an if statement without else whose body ends in return and whose
// condition is a negated flag (!cfg.Enabled) or an empty-string test
// (cfg.File == ""). An error check (err != nil) is not a setting.
func settingOffReturn(st ast.Stmt) bool {
	ifs, ok := st.(*ast.IfStmt)
	if !ok || ifs.Init != nil || ifs.Else != nil || len(ifs.Body.List) == 0 {
		return false
	}
	if _, ok := ifs.Body.List[len(ifs.Body.List)-1].(*ast.ReturnStmt); !ok {
		return false
	}
	switch c := ast.Unparen(ifs.Cond).(type) {
	case *ast.UnaryExpr:
		if c.Op != token.NOT {
			return false
		}
		switch ast.Unparen(c.X).(type) {
		case *ast.Ident, *ast.SelectorExpr:
			return true
		}
	case *ast.BinaryExpr:
		if c.Op != token.EQL {
			return false
		}
		for _, side := range []ast.Expr{c.X, c.Y} {
			if lit, ok := ast.Unparen(side).(*ast.BasicLit); ok && lit.Kind == token.STRING && (lit.Value == `""` || lit.Value == "``") {
				return true
			}
		}
	}
	return false
}

// onlyGuardedUses reports whether the package uses the import only where
// a setting decides (settingGuarded), and at least once: a rotating log
// file that a flag turns on.
func onlyGuardedUses(pass *analysis.Pass, path string) bool {
	guarded := settingGuarded(pass)
	uses := 0
	for id, obj := range pass.TypesInfo.Uses {
		pn, ok := obj.(*types.PkgName)
		if !ok || pn.Imported().Path() != path {
			continue
		}
		if !guarded[id] {
			return false
		}
		uses++
	}
	return uses > 0
}

// isOSFile reports whether t is *os.File.
func isOSFile(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := types.Unalias(p.Elem()).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "os" && n.Obj().Name() == "File"
}

// isStdStream reports whether e is os.Stdout or os.Stderr.
func isStdStream(pass *analysis.Pass, e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	v, ok := pass.TypesInfo.Uses[sel.Sel].(*types.Var)
	return ok && v.Pkg() != nil && v.Pkg().Path() == "os" && (v.Name() == "Stdout" || v.Name() == "Stderr")
}

// AutoMigrate is the V4 analyzer without knowledge of the whole program.
var AutoMigrate = Migrations(nil)

// Migrations returns the V4 analyzer: schema changes made by the service
// whenever it starts (gorm's AutoMigrate, ent's Schema.Create) and data
// seeded by its main package, which belong to a release step or an admin
// task run once. embeddedSQLite reports whether the program a package
// belongs to keeps its data only in SQLite files (a SQLite driver and no
// database server driver); nil judges from the package's own imports.
func Migrations(embeddedSQLite func(pkgPath string) bool) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "automigrate",
		Doc:  "V4: report schema migration and seeding at every start of the service",
		Run: func(pass *analysis.Pass) (any, error) {
			sqliteOnly := embeddedSQLite != nil && embeddedSQLite(pass.Pkg.Path())
			done := reportSchemaCalls(pass, sqliteOnly)
			if !usesCLIFramework(pass.Pkg) {
				reportSchemaSQL(pass, done, sqliteOnly)
			}
			if pass.Pkg.Name() == "main" {
				reportSeeding(pass)
			}
			return nil, nil
		},
	}
}

// migrationLibraries are the import paths of migration tools: a package
// that imports one holds versioned steps that the tool runs once each.
var migrationLibraries = []string{"github.com/go-gormigrate/gormigrate", "gopkg.in/gormigrate.v1", "github.com/golang-migrate/migrate", "github.com/pressly/goose", "ariga.io/atlas", "github.com/rubenv/sql-migrate", "github.com/uptrace/bun/migrate"}

// reportSchemaCalls reports gorm's AutoMigrate and ent's Schema.Create
// run by the service, at most once per package and shape (the first call,
// with the number of calls): a list of models migrated is one decision.
// Left out: a program that keeps its data in an embedded SQLite file,
// which no release step can reach, and calls inside versioned migration
// steps (a Migrate field of a migration value, a function named for a
// migration that the package hands to a runner rather than calls, or a
// package importing a migration library), which their runner applies once
// per version. What V4 judges of such steps is whether func main runs
// them unconditionally (gormigrate's Migrate), at every start. It returns
// the functions holding a reported call.
func reportSchemaCalls(pass *analysis.Pass, sqliteOnly bool) map[*ast.FuncDecl]bool {
	done := make(map[*ast.FuncDecl]bool)
	embedded := sqliteOnly || reaches(pass.Pkg, sqliteDrivers) && !reaches(pass.Pkg, serverDrivers)
	if embedded {
		return done
	}
	if pass.Pkg.Name() == "main" {
		guarded := settingGuarded(pass)
		reported := false
		calls(pass, func(call *ast.CallExpr, fn *types.Func, decl *ast.FuncDecl) {
			if reported || guarded[call] || !isMainFunc(pass, decl) {
				return
			}
			if t := recvType(fn); strings.Contains(t, "gormigrate") && strings.HasSuffix(t, ".Gormigrate") && (fn.Name() == "Migrate" || fn.Name() == "MigrateTo") {
				report(pass, "V4", call, "main runs the versioned migrations at every start of the service; run them once per release")
				reported = true
			}
		})
	}
	if importsAny(pass.Pkg, migrationLibraries) {
		return done
	}
	steps := migrationSteps(pass)
	type shape struct {
		first *ast.CallExpr
		decl  *ast.FuncDecl
		n     int
	}
	var gormCalls, entCalls shape
	calls(pass, func(call *ast.CallExpr, fn *types.Func, decl *ast.FuncDecl) {
		var s *shape
		switch t := recvType(fn); {
		case t == "gorm.io/gorm.DB" && fn.Name() == "AutoMigrate",
			t == "github.com/jinzhu/gorm.DB" && fn.Name() == "AutoMigrate":
			s = &gormCalls
		case strings.HasSuffix(t, "/ent/migrate.Schema") && fn.Name() == "Create":
			s = &entCalls
		default:
			return
		}
		for _, st := range steps {
			if st.Pos() <= call.Pos() && call.End() <= st.End() {
				return
			}
		}
		if s.first == nil {
			s.first, s.decl = call, decl
		}
		s.n++
	})
	for _, s := range []struct {
		shape
		what string
	}{{gormCalls, "gorm's AutoMigrate"}, {entCalls, "ent's Schema.Create"}} {
		if s.first == nil {
			continue
		}
		count := ""
		if s.n > 1 {
			count = fmt.Sprintf(" (%d calls in this package)", s.n)
		}
		report(pass, "V4", s.first, "%s changes the schema at every start of the service%s; run the migration once per release", s.what, count)
		if s.decl != nil {
			done[s.decl] = true
		}
	}
	return done
}

// migrationSteps returns the bodies of the package's versioned migration
// steps: function literals given as the Migrate or Rollback field of a
// composite literal, and functions named for a migration that the package
// uses as a value (handed to a runner with their version) and never calls
// itself.
func migrationSteps(pass *analysis.Pass) []ast.Node {
	var steps []ast.Node
	called := make(map[types.Object]bool)
	valued := make(map[types.Object]bool)
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Migrate" || k.Name == "Rollback") {
					if lit, ok := n.Value.(*ast.FuncLit); ok {
						steps = append(steps, lit.Body)
					}
				}
				if id, ok := ast.Unparen(n.Value).(*ast.Ident); ok {
					valued[pass.TypesInfo.Uses[id]] = true
				}
			case *ast.CallExpr:
				if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok {
					called[pass.TypesInfo.Uses[id]] = true
				}
				for _, a := range n.Args {
					if id, ok := ast.Unparen(a).(*ast.Ident); ok {
						valued[pass.TypesInfo.Uses[id]] = true
					}
				}
			}
			return true
		})
	}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			decl, ok := d.(*ast.FuncDecl)
			if !ok || decl.Body == nil || decl.Recv != nil || !migrationStep.MatchString(decl.Name.Name) {
				continue
			}
			obj := pass.TypesInfo.Defs[decl.Name]
			if obj != nil && valued[obj] && !called[obj] {
				steps = append(steps, decl.Body)
			}
		}
	}
	return steps
}

// reaches reports whether pkg imports, at any depth, a path starting with
// one of prefixes.
func reaches(pkg *types.Package, prefixes []string) bool {
	seen := make(map[*types.Package]bool)
	var walk func(p *types.Package) bool
	walk = func(p *types.Package) bool {
		if seen[p] {
			return false
		}
		seen[p] = true
		for _, imp := range p.Imports() {
			for _, pre := range prefixes {
				if imp.Path() == pre || strings.HasPrefix(imp.Path(), pre+"/") {
					return true
				}
			}
			if walk(imp) {
				return true
			}
		}
		return false
	}
	return walk(pkg)
}

// createTable matches DDL that creates or changes a table.
var createTable = regexp.MustCompile(`(?i)\b(create\s+table|alter\s+table)\b`)

// migrationWords match code about migration files.
var migrationWords = regexp.MustCompile(`(?i)migrat|\.sql\b`)

// execMethods are the methods of database clients that run a statement.
var execMethods = map[string]bool{"Exec": true, "ExecContext": true, "MustExec": true, "MustExecContext": true}

// sqliteDrivers are the import paths of SQLite drivers: a database file
// the process opens itself, which no release step can reach.
var sqliteDrivers = []string{"modernc.org/sqlite", "github.com/mattn/go-sqlite3", "github.com/glebarez/sqlite", "github.com/glebarez/go-sqlite", "zombiezen.com/go/sqlite", "crawshaw.io/sqlite", "github.com/ncruces/go-sqlite3", "gorm.io/driver/sqlite"}

// serverDrivers are the import paths of database server drivers.
var serverDrivers = []string{"github.com/lib/pq", "github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "github.com/microsoft/go-mssqldb", "github.com/denisenkom/go-mssqldb"}

// importsAny reports whether pkg imports a path starting with one of prefixes.
func importsAny(pkg *types.Package, prefixes []string) bool {
	for _, imp := range pkg.Imports() {
		for _, p := range prefixes {
			if imp.Path() == p || strings.HasPrefix(imp.Path(), p+"/") {
				return true
			}
		}
	}
	return false
}

// sqliteOnly matches SQL that only SQLite runs, and names of code about
// SQLite.
var sqliteOnly = regexp.MustCompile(`(?i)autoincrement|without\s+rowid|pragma|sqlite`)

// migrationStep matches the names of packages and functions that hold
// migration steps or an admin command's work (migrations, upgrade,
// install, V0_4_0): a runner or a command decides when they run.
var migrationStep = regexp.MustCompile(`(?i)migrat|upgrade|install|^v[0-9]+(_[0-9]+)+`)

// reportSchemaSQL reports hand-written migrations run by the service's
// code without a setting deciding: a CREATE or ALTER TABLE statement
// executed, or migration files read and executed in a loop, at most once
// per package (one schema setup is one decision, whatever its number of
// statements or files). Left out: a command package (built on a CLI
// framework), a migrate command run on purpose; code behind an if or a
// switch case (a flag, a version check); the schema of an embedded SQLite
// file the process owns, which no release step can reach; and DDL in migration steps or admin commands (a package
// or function named for migrations, upgrade or install, or for a version),
// whose runner or command decides when they run.
func reportSchemaSQL(pass *analysis.Pass, done map[*ast.FuncDecl]bool, sqliteProgram bool) {
	guarded := settingGuarded(pass)
	sqliteOnlyPkg := sqliteProgram || importsAny(pass.Pkg, sqliteDrivers) && !importsAny(pass.Pkg, serverDrivers)
	stepPkg := migrationStep.MatchString(pass.Pkg.Name())
	reported := false
	for _, file := range pass.Files {
		if ast.IsGenerated(file) {
			continue
		}
		for _, d := range file.Decls {
			decl, ok := d.(*ast.FuncDecl)
			if reported || !ok || decl.Body == nil || done[decl] {
				continue
			}
			sqliteFunc := sqliteOnlyPkg || sqliteOnly.MatchString(decl.Name.Name)
			stepFunc := stepPkg || migrationStep.MatchString(decl.Name.Name)
			readsFiles, aboutMigrations := false, migrationWords.MatchString(decl.Name.Name)
			var loops []*ast.RangeStmt
			ast.Inspect(decl.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					aboutMigrations = aboutMigrations || (n.Kind == token.STRING && migrationWords.MatchString(n.Value))
				case *ast.RangeStmt:
					loops = append(loops, n)
				case *ast.CallExpr:
					if fn, ok := typeutil.Callee(pass.TypesInfo, n).(*types.Func); ok {
						switch fn.Name() {
						case "ReadDir", "ReadFile", "Glob", "WalkDir", "Open":
							readsFiles = readsFiles || fn.Pkg() != nil && (fn.Pkg().Path() == "os" || fn.Pkg().Path() == "io/fs" || fn.Pkg().Path() == "embed" || fn.Pkg().Path() == "path/filepath")
						}
					}
				}
				return true
			})
			inLoop := func(n ast.Node) bool {
				for _, l := range loops {
					if l.Body.Pos() <= n.Pos() && n.End() <= l.Body.End() {
						return true
					}
				}
				return false
			}
			ast.Inspect(decl.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || done[decl] || guarded[call] {
					return !done[decl]
				}
				fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
				if !ok || !execMethods[fn.Name()] || fn.Signature().Recv() == nil || sameModule(pass, fn) {
					return true
				}
				for _, a := range call.Args {
					if q, ok := constString(pass, a); ok && createTable.MatchString(q) && !sqliteFunc && !stepFunc && !sqliteOnly.MatchString(q) {
						reported = true
						report(pass, "V4", call, "the service runs %s itself whenever this code runs, at every start; run schema changes once per release", strings.ToUpper(createTable.FindString(q)))
						done[decl] = true
						return false
					}
				}
				if readsFiles && aboutMigrations && inLoop(call) && !sqliteFunc {
					reported = true
					report(pass, "V4", call, "%s reads migration files and executes them in a loop, at every start of the service; run the migrations once per release", decl.Name.Name)
					done[decl] = true
					return false
				}
				return true
			})
		}
	}
}

// reportSeeding reports a main package that calls a seeding function of
// its own module (db.Seed, seedData) unconditionally: test or demo data
// written at every start. A call inside an if statement is taken to be
// behind a setting (if cfg.Seed {…}).
func reportSeeding(pass *analysis.Pass) {
	for _, file := range pass.Files {
		if ast.IsGenerated(file) {
			continue
		}
		inspectUnguarded(file, func(n ast.Node) {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return
			}
			fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
			if !ok || !strings.HasPrefix(strings.ToLower(fn.Name()), "seed") || !sameModule(pass, fn) {
				return
			}
			report(pass, "V4", call, "%s seeds the database at every start of the service; seed once, as a release or admin task", fn.Name())
		})
	}
}

// inspectUnguarded calls visit for every node of file that no if
// statement encloses (an if's condition counts as enclosed): what runs
// whatever the settings say.
func inspectUnguarded(file *ast.File, visit func(ast.Node)) {
	guarded := 0 // depth of enclosing if statements
	var stack []ast.Node
	ast.Inspect(file, func(n ast.Node) bool {
		if n == nil {
			if _, ok := stack[len(stack)-1].(*ast.IfStmt); ok {
				guarded--
			}
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if _, ok := n.(*ast.IfStmt); ok {
			guarded++
		} else if guarded == 0 {
			visit(n)
		}
		return true
	})
}

// sameModule reports whether fn belongs to the analyzed module (or, in
// GOPATH mode, shares the package path's first element).
func sameModule(pass *analysis.Pass, fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	module := strings.Split(pass.Pkg.Path(), "/")[0]
	if pass.Module != nil && pass.Module.Path != "" {
		module = pass.Module.Path
	}
	p := fn.Pkg().Path()
	return p == module || strings.HasPrefix(p, module+"/")
}

// cliImports are command-line frameworks: a package built on one is a
// command's user interface, where printing to stdout is its job.
var cliImports = []string{"github.com/spf13/cobra", "github.com/urfave/cli", "github.com/alecthomas/kingpin", "github.com/alecthomas/kong", "gopkg.in/alecthomas/kingpin"}

// usesCLIFramework reports whether a package is built on a command-line
// framework.
func usesCLIFramework(pkg *types.Package) bool {
	for _, imp := range pkg.Imports() {
		for _, cli := range cliImports {
			if strings.HasPrefix(imp.Path(), cli) {
				return true
			}
		}
	}
	return false
}

// StrayPrint is the XI2 analyzer: fmt.Print and log.Print in library code.
// Main packages and packages built on a CLI framework are left out.
var StrayPrint = &analysis.Analyzer{
	Name: "strayprint",
	Doc:  "XI2: report fmt.Print and log.Print to the implicit standard streams outside main packages",
	Run: func(pass *analysis.Pass) (any, error) {
		if pass.Pkg.Name() == "main" || usesCLIFramework(pass.Pkg) {
			return nil, nil
		}
		visit(pass, func(n ast.Node, _ *ast.FuncDecl, _ *ast.File) {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return
			}
			if id, ok := call.Fun.(*ast.Ident); ok {
				if b, ok := pass.TypesInfo.Uses[id].(*types.Builtin); ok && (b.Name() == "print" || b.Name() == "println") {
					report(pass, "XI2", call, "builtin %s writes to stderr outside the logger", b.Name())
				}
				return
			}
			fn, ok := calleeFunc(pass, call)
			if !ok {
				return
			}
			if isFunc(fn, "fmt", "Print", "Printf", "Println") || isFunc(fn, "log", "Print", "Printf", "Println") {
				report(pass, "XI2", call, "%s.%s writes unstructured output outside the logger", fn.Pkg().Name(), fn.Name())
			}
		})
		return nil, nil
	},
}

// DriverKind tells whether an import path is a SQLite driver ("sqlite"),
// a database server driver ("server"), or neither ("").
func DriverKind(path string) string {
	for _, set := range []struct {
		kind     string
		prefixes []string
	}{{"sqlite", sqliteDrivers}, {"server", serverDrivers}} {
		for _, p := range set.prefixes {
			if path == p || strings.HasPrefix(path, p+"/") {
				return set.kind
			}
		}
	}
	return ""
}
