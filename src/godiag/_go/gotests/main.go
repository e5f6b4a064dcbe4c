// Command gotests reports the test-shaped functions of Go files, parsed with go/ast.
//
// godiag doctor's misnamed-tests check asks it which functions `go test` would or
// would not run. Reading Go with regular expressions mistakes code inside raw string
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
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			out.Errors = append(out.Errors, err.Error())
			continue
		}
		testing := testingName(f)
		decls := map[*ast.Ident]bool{}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !testShaped(fd.Name.Name) {
				continue
			}
			decls[fd.Name] = true
			out.Funcs = append(out.Funcs, fn{
				File:    path,
				Line:    fset.Position(fd.Pos()).Line,
				Name:    fd.Name.Name,
				Test:    kind == "T",
				Method:  fd.Recv != nil,
				Params:  countFields(fd.Type.Params),
				Param:   paramKind(fd.Type, testing),
				Results: countFields(fd.Type.Results),
				TParams: countFields(fd.Type.TypeParams),
			})
		}
		ast.Inspect(f, func(n ast.Node) bool {
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
