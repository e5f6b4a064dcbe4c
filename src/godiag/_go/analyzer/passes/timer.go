package passes

import (
	"go/ast"
	"go/token"

	"golang.org/x/tools/go/analysis"
)

// TimerLeak flags time.Tick and unstopped time.NewTicker in functions that return.
// Since Go 1.23 (module go line >= 1.23) unreferenced tickers are collected, so
// files governed by such a version are skipped.
var TimerLeak = &analysis.Analyzer{
	Name: "timer_leak",
	Doc:  "time.Tick or time.NewTicker without Stop in a function that returns",
	Run:  runTimer,
}

func runTimer(pass *analysis.Pass) (any, error) {
	funcs(pass, func(file *ast.File, decl *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		if m := minorOf(fileVersion(pass.TypesInfo, file)); m >= 23 {
			return
		}
		if decl != nil && decl.Recv == nil && (decl.Name.Name == "main" || decl.Name.Name == "init") && pass.Pkg.Name() == "main" {
			return
		}
		if !canReturn(body) {
			return
		}
		parents := parentMap(body)
		shallow(body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch calleeName(pass.TypesInfo, call) {
			case "time.Tick":
				pass.Reportf(call.Pos(), "time.Tick in a function that returns leaks its ticker (before Go 1.23 it is never collected): use time.NewTicker and defer its Stop")
			case "time.NewTicker":
				checkTicker(pass, parents, body, call)
			}
			return true
		})
	})
	return nil, nil
}

// checkTicker reports t := time.NewTicker(d) when t is never stopped and never
// leaves the function (returned, stored, passed on).
func checkTicker(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, call *ast.CallExpr) {
	as, ok := parents[call].(*ast.AssignStmt)
	if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return
	}
	v := objOf(pass.TypesInfo, as.Lhs[0])
	if !isLocal(v) {
		return
	}
	for _, id := range identUses(pass.TypesInfo, body, v) {
		sel, ok := parents[id].(*ast.SelectorExpr)
		if !ok || sel.X != id {
			return // escapes: returned, passed, reassigned
		}
		switch sel.Sel.Name {
		case "Stop":
			return
		case "C", "Reset":
		default:
			return
		}
	}
	pass.Reportf(call.Pos(), "ticker from time.NewTicker is never stopped and its function returns: add defer %s.Stop()", v.Name())
}

// canReturn is false for bodies that end in an endless loop with no return inside.
func canReturn(body *ast.BlockStmt) bool {
	hasReturn := false
	shallow(body, func(n ast.Node) bool {
		if _, ok := n.(*ast.ReturnStmt); ok {
			hasReturn = true
		}
		return !hasReturn
	})
	if hasReturn {
		return true
	}
	if len(body.List) == 0 {
		return true
	}
	switch loop := body.List[len(body.List)-1].(type) {
	case *ast.ForStmt:
		if loop.Cond != nil {
			return true
		}
		return breaksOut(loop.Body, true)
	case *ast.RangeStmt:
		// The channel of time.Tick is never closed: ranging over it never ends.
		if call, ok := loop.X.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Tick" {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "time" {
					return breaksOut(loop.Body, true)
				}
			}
		}
	}
	return true
}

// breaksOut reports whether n contains a break leaving the loop it belongs to:
// a labelled break, or an unlabelled one not inside a nested for/switch/select.
func breaksOut(n ast.Node, direct bool) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if found || m == nil {
			return false
		}
		switch x := m.(type) {
		case *ast.FuncLit:
			return false
		case *ast.BranchStmt:
			if x.Tok == token.BREAK && (x.Label != nil || direct) {
				found = true
			}
		case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
			if m != n {
				found = found || breaksOut(m, false)
				return false
			}
		}
		return true
	})
	return found
}
