// Command gotests reports the test-shaped functions of Go files, parsed with go/ast.
//
// godiag doctor's misnamed-tests check asks it which functions `go test` would or
// would not run; godiag run asks what a TestMain does with m (Run, os.Exit(0) before it). Reading Go with regular expressions mistakes code inside raw string
// literals and comments for declarations; the parser does not.
//
// Input (stdin): one file per line, "T<tab>path" for a _test.go file of the package's
// test build, "N<tab>path" for a non-test file. Output (stdout): one JSON document,
//
//	{"funcs": [...], "refs": [...], "errors": [...]}
//
// funcs: every top-level function or method whose name starts with Test, Benchmark or
// Fuzz, with its signature reduced to what `go test` looks at. refs: the names with those
// prefixes used anywhere other than in their own declaration (a call, a selector
// pkg.TestAll, a function value): an exported TestXxx in a non-test file that something
// calls is a helper, not a forgotten test. errors: files that could not be parsed.
package main

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

type fn struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Name    string `json:"name"`
	Test    bool   `json:"test_file"`
	Method  bool   `json:"method"`
	Params  int    `json:"params"`
	Param   string `json:"param"` // "T", "B", "F" for a single *testing.X parameter, else ""
	Results int    `json:"results"`
	TParams int    `json:"type_params"`
	// TestMain only (godiag run asks whether its tests can have run): the line of the
	// first m.Run() call, how often m is used otherwise (passed to a function that may
	// call Run), and the first os.Exit(0) or return of TestMain itself placed before
	// that call; 0 when none.
	MainRun   int `json:"main_run,omitempty"`
	MainUses  int `json:"main_other_uses,omitempty"`
	MainExit0 int `json:"main_exit0,omitempty"`
	// that os.Exit(0) or return is a statement of TestMain's body itself (not under an
	// if, a loop or a closure), before which m is not used: it always ends TestMain
	MainExit0Always bool `json:"main_exit0_always,omitempty"`
	// for each os.Exit(0) or return before m.Run, the environment test guarding it when its
	// innermost if reads `os.Getenv("X") == "v"` or `!= "v"` (a test binary re-run as a
	// helper process: x/tools' cmd/stringer); Var is "" when the guard is anything else
	MainExit0Guards []guard `json:"main_exit0_guards,omitempty"`
}

type guard struct {
	Var   string `json:"var"`
	Op    string `json:"op"` // "==" or "!="
	Value string `json:"value"`
	Then  bool   `json:"then"` // the exit is in the if's body (else: in its else branch)
}

type output struct {
	Funcs  []fn     `json:"funcs"`
	Refs   []string `json:"refs"`
	Errors []string `json:"errors"`
}

func testShaped(name string) bool {
	return strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Benchmark") ||
		strings.HasPrefix(name, "Fuzz")
}

// testingName is the name the file gives the "testing" import ("" when not imported).
func testingName(f *ast.File) string {
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err == nil && p == "testing" {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return "testing"
		}
	}
	return ""
}

func countFields(fl *ast.FieldList) int {
	if fl == nil {
		return 0
	}
	n := 0
	for _, f := range fl.List {
		if len(f.Names) == 0 {
			n++
		} else {
			n += len(f.Names)
		}
	}
	return n
}

// paramKind is "T", "B" or "F" when the only parameter is *testing.T/B/F.
func paramKind(ft *ast.FuncType, testing string) string {
	if testing == "" || countFields(ft.Params) != 1 {
		return ""
	}
	star, ok := ft.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return ""
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != testing {
		return ""
	}
	switch sel.Sel.Name {
	case "T", "B", "F":
		return sel.Sel.Name
	}
	return ""
}

// importName is the name the file gives an import path ("" when not imported).
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err == nil && p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path
		}
	}
	return ""
}

// isExit0 reports a call os.Exit(0), with os under the file's name for it.
func isExit0(n ast.Node, osName string) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok || osName == "" || len(call.Args) != 1 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Exit" {
		return false
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != osName {
		return false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	return ok && lit.Value == "0"
}

// mainFacts fills in what TestMain does with its *testing.M: the first Run call, other
// uses of m, and the first way it can end with status 0 placed before that call
// (os.Exit(0) anywhere, a return of TestMain itself).
func mainFacts(fset *token.FileSet, fd *ast.FuncDecl, osName string, out *fn) {
	m := ""
	if ps := fd.Type.Params; ps != nil && len(ps.List) == 1 && len(ps.List[0].Names) == 1 {
		m = ps.List[0].Names[0].Name
	}
	isM := func(id *ast.Ident) bool { return m != "" && m != "_" && id.Name == m }
	var run, exit0 token.Pos
	var exits []token.Pos
	earliest := func(cur *token.Pos, p token.Pos) {
		if *cur == token.NoPos || p < *cur {
			*cur = p
		}
	}
	runs := map[*ast.Ident]bool{}
	var walk func(closure bool) func(ast.Node) bool
	walk = func(closure bool) func(ast.Node) bool {
		return func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				// a closure's return is not TestMain's; its m.Run and os.Exit(0) count
				ast.Inspect(n.Body, walk(true))
				return false
			case *ast.ReturnStmt:
				if !closure {
					earliest(&exit0, n.Pos())
					exits = append(exits, n.Pos())
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Run" {
					if x, ok := sel.X.(*ast.Ident); ok && isM(x) {
						runs[x] = true
						earliest(&run, n.Pos())
					}
				}
				if isExit0(n, osName) {
					earliest(&exit0, n.Pos())
					exits = append(exits, n.Pos())
				}
			case *ast.Ident:
				if isM(n) && !runs[n] {
					out.MainUses++
				}
			}
			return true
		}
	}
	ast.Inspect(fd.Body, walk(false))
	line := func(p token.Pos) int { return fset.Position(p).Line }
	if run != token.NoPos {
		out.MainRun = line(run)
	}
	if exit0 != token.NoPos && (run == token.NoPos || exit0 < run) {
		out.MainExit0 = line(exit0)
		out.MainExit0Always = topLevel(fd.Body, exit0, osName) && !usedBefore(fd.Body, m, exit0)
		for _, p := range exits {
			if run == token.NoPos || p < run {
				out.MainExit0Guards = append(out.MainExit0Guards, guardOf(fd.Body, p, osName))
			}
		}
	}
}

// guardOf reads the innermost if around pos when its condition compares os.Getenv("X")
// with a string literal; the zero guard otherwise.
func guardOf(body *ast.BlockStmt, pos token.Pos, osName string) guard {
	var inner *ast.IfStmt
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil || pos < n.Pos() || pos >= n.End() {
			return false
		}
		if is, ok := n.(*ast.IfStmt); ok && (within(is.Body, pos) || within(is.Else, pos)) {
			inner = is
		}
		return true
	})
	if inner == nil {
		return guard{}
	}
	b, ok := inner.Cond.(*ast.BinaryExpr)
	if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
		return guard{}
	}
	name, okx := getenv(b.X, osName)
	val, oky := strLit(b.Y)
	if !okx || !oky {
		name, okx = getenv(b.Y, osName)
		val, oky = strLit(b.X)
	}
	if !okx || !oky {
		return guard{}
	}
	return guard{Var: name, Op: b.Op.String(), Value: val, Then: within(inner.Body, pos)}
}

func within(n ast.Node, pos token.Pos) bool {
	return n != nil && !reflect.ValueOf(n).IsNil() && n.Pos() <= pos && pos < n.End()
}

// getenv reads os.Getenv("X") (os under the file's name for it) and returns X.
func getenv(e ast.Expr, osName string) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Getenv" {
		return "", false
	}
	if x, ok := sel.X.(*ast.Ident); !ok || x.Name != osName {
		return "", false
	}
	return strLit(call.Args[0])
}

func strLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(lit.Value)
	return v, err == nil
}

// topLevel reports whether the os.Exit(0) or return at pos is a statement of body itself.
func topLevel(body *ast.BlockStmt, pos token.Pos, osName string) bool {
	for _, st := range body.List {
		switch st := st.(type) {
		case *ast.ReturnStmt:
			if st.Pos() == pos {
				return true
			}
		case *ast.ExprStmt:
			if st.X.Pos() == pos && isExit0(st.X, osName) {
				return true
			}
		}
	}
	return false
}

// usedBefore reports whether m appears in body before pos (a function handed m may run it).
func usedBefore(body *ast.BlockStmt, m string, pos token.Pos) bool {
	used := false
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && m != "" && m != "_" && id.Name == m && id.Pos() < pos {
			used = true
		}
		return !used
	})
	return used
}

func main() {
	fset := token.NewFileSet()
	out := output{Funcs: []fn{}, Refs: []string{}, Errors: []string{}}
	refs := map[string]bool{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		kind, path, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		f0, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			out.Errors = append(out.Errors, err.Error())
			continue
		}
		testing := testingName(f0)
		decls := map[*ast.Ident]bool{}
		for _, d := range f0.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !testShaped(fd.Name.Name) {
				continue
			}
			decls[fd.Name] = true
			f := fn{
				File:    path,
				Line:    fset.Position(fd.Pos()).Line,
				Name:    fd.Name.Name,
				Test:    kind == "T",
				Method:  fd.Recv != nil,
				Params:  countFields(fd.Type.Params),
				Param:   paramKind(fd.Type, testing),
				Results: countFields(fd.Type.Results),
				TParams: countFields(fd.Type.TypeParams),
			}
			if fd.Name.Name == "TestMain" && fd.Recv == nil && fd.Body != nil {
				mainFacts(fset, fd, importName(f0, "os"), &f)
			}
			out.Funcs = append(out.Funcs, f)
		}
		ast.Inspect(f0, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && testShaped(id.Name) && !decls[id] {
				refs[id.Name] = true
			}
			return true
		})
	}
	for name := range refs {
		out.Refs = append(out.Refs, name)
	}
	sort.Strings(out.Refs)
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
