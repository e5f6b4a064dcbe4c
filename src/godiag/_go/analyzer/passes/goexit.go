package passes

import (
	"go/ast"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// GoexitMisuse flags runtime.Goexit where it ends the wrong goroutine: main's own
// goroutine (the program then dies with "no goroutines (main called
// runtime.Goexit) - deadlock!"), init, TestMain, or a test's goroutines.
var GoexitMisuse = &analysis.Analyzer{
	Name: "goexit_misuse",
	Doc:  "runtime.Goexit called from main, init, TestMain or a test",
	Run:  runGoexit,
}

func runGoexit(pass *analysis.Pass) (any, error) {
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || fd.Recv != nil {
				continue
			}
			name := fd.Name.Name
			var where, fix string
			switch {
			case name == "main" && pass.Pkg.Name() == "main":
				where, fix = "main", "return from main (or call os.Exit) instead; Goexit in main leaves the program to die with \"no goroutines (main called runtime.Goexit) - deadlock!\""
			case name == "init":
				where, fix = "init", "return from init or panic with an error instead; Goexit in init stops the program from ever reaching main"
			case name == "TestMain":
				where, fix = "TestMain", "return m.Run()'s code with os.Exit instead; Goexit in TestMain ends the test binary without a result"
			case strings.HasPrefix(name, "Test") && strings.HasSuffix(pass.Fset.File(fd.Pos()).Name(), "_test.go"):
				where, fix = "test "+name, "use t.FailNow/t.Fatal in the test goroutine, or report the error back to it; runtime.Goexit in a test silently ends it"
			default:
				continue
			}
			checkGoexit(pass, fd.Body, where, fix, strings.HasPrefix(where, "test"))
		}
	}
	return nil, nil
}

// checkGoexit visits body and the function literals that run on the same goroutine
// (deferred ones); with inTest, goroutines started by the test are visited too.
func checkGoexit(pass *analysis.Pass, body ast.Node, where, fix string, inTest bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.DeferStmt:
			if lit, ok := x.Call.Fun.(*ast.FuncLit); ok {
				checkGoexit(pass, lit.Body, "a deferred function of "+where, fix, inTest)
				return false
			}
		case *ast.GoStmt:
			if lit, ok := x.Call.Fun.(*ast.FuncLit); ok && inTest {
				checkGoexit(pass, lit.Body, "a goroutine of "+where, fix, inTest)
			}
			return false
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if calleeName(pass.TypesInfo, x) == "runtime.Goexit" {
				pass.Reportf(x.Pos(), "runtime.Goexit called in %s: %s", where, fix)
			}
		}
		return true
	})
}
