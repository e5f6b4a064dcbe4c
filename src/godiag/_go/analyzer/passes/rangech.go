package passes

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// UnclosedRange flags `for range ch` over a channel nothing in the package closes.
// Only channels the package fully owns are considered: local variables and
// unexported fields or package variables, created by make and never handed to
// code the analyzer cannot see (function arguments, other variables, returns).
// In package main, a loop in a goroutine started only at start-up (lifetime.go) is a
// worker meant to run until the process ends, and is not reported.
var UnclosedRange = &analysis.Analyzer{
	Name: "unclosed_range",
	Doc:  "for range over a channel that nothing in the package closes",
	Run:  runRange,
}

func runRange(pass *analysis.Pass) (any, error) {
	parents := map[ast.Node]ast.Node{}
	for _, f := range pass.Files {
		for k, v := range parentMap(f) {
			parents[k] = v
		}
	}
	verdict := map[*types.Var]bool{} // true: owned and never closed
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			rs, ok := n.(*ast.RangeStmt)
			if !ok {
				return true
			}
			ct, ok := pass.TypesInfo.TypeOf(rs.X).Underlying().(*types.Chan)
			if !ok || ct.Dir() != types.SendRecv {
				return true
			}
			if leavesLoop(rs.Body) {
				return true // the loop has its own way out (break, return, goto)
			}
			v := objOf(pass.TypesInfo, rs.X)
			if v == nil || v.Exported() || v.Pkg() != pass.Pkg {
				return true
			}
			if _, isParam := paramOf(pass, v); isParam {
				return true
			}
			open, seen := verdict[v]
			if !seen {
				open = neverClosed(pass, parents, v)
				verdict[v] = open
			}
			// a worker main starts at start-up is meant to live as long as the process
			if open && !startedOnce(pass, parents, rs) {
				pass.Reportf(rs.Pos(), "for range over channel %s, which nothing in this package closes: the loop (and its goroutine) never ends; close(%s) when the last value is sent", v.Name(), v.Name())
			}
			return true
		})
	}
	checkEarlyReturn(pass)
	return nil, nil
}

// paramOf reports whether v is a parameter or result of some function.
func paramOf(pass *analysis.Pass, v *types.Var) (*types.Var, bool) {
	if v.IsField() {
		return nil, false
	}
	for _, f := range pass.Files {
		found := false
		ast.Inspect(f, func(n ast.Node) bool {
			ft, ok := n.(*ast.FuncType)
			if !ok || found {
				return !found
			}
			for _, fl := range []*ast.FieldList{ft.Params, ft.Results} {
				if fl == nil {
					continue
				}
				for _, fld := range fl.List {
					for _, name := range fld.Names {
						if pass.TypesInfo.Defs[name] == v {
							found = true
						}
					}
				}
			}
			return true
		})
		if found {
			return v, true
		}
	}
	return nil, false
}

// neverClosed is true when every use of v is a make-assignment, send, receive,
// range, len/cap, or select case, and none is close(v).
func neverClosed(pass *analysis.Pass, parents map[ast.Node]ast.Node, v *types.Var) bool {
	made := false
	for _, f := range pass.Files {
		ok := true
		ast.Inspect(f, func(n ast.Node) bool {
			if !ok {
				return false
			}
			var ref ast.Expr
			switch x := n.(type) {
			case *ast.Ident:
				if pass.TypesInfo.Uses[x] == v || pass.TypesInfo.Defs[x] == v {
					ref = x
				}
			case *ast.SelectorExpr:
				if objOf(pass.TypesInfo, x) == v {
					ref = x
				}
				if ref == nil {
					return true
				}
			}
			if ref == nil {
				return true
			}
			if id, isID := ref.(*ast.Ident); isID {
				if sel, isSel := parents[id].(*ast.SelectorExpr); isSel && sel.Sel == id {
					return true // counted through the selector
				}
			}
			switch use := chanUse(pass, parents, ref); use {
			case "make":
				made = true
			case "op":
			case "decl":
			default:
				ok = false
			}
			return false
		})
		if !ok {
			return false
		}
	}
	return made
}

// chanUse classifies one reference to a channel variable.
func chanUse(pass *analysis.Pass, parents map[ast.Node]ast.Node, ref ast.Expr) string {
	p := parents[ref]
	for {
		if pe, ok := p.(*ast.ParenExpr); ok {
			p = parents[pe]
			continue
		}
		break
	}
	switch x := p.(type) {
	case *ast.AssignStmt:
		for i, l := range x.Lhs {
			if l == ref && len(x.Rhs) == len(x.Lhs) && isMakeChan(pass, x.Rhs[i]) {
				return "make"
			}
		}
	case *ast.ValueSpec:
		for i, name := range x.Names {
			if name == ref && i < len(x.Values) && isMakeChan(pass, x.Values[i]) {
				return "make"
			}
			if name == ref && len(x.Values) == 0 {
				return "decl"
			}
		}
	case *ast.Field:
		return "decl"
	case *ast.KeyValueExpr:
		if x.Value != ref && isMakeChan(pass, x.Value) {
			return "make" // field: make(chan T) in a composite literal
		}
	case *ast.SendStmt:
		if x.Chan == ref {
			return "op"
		}
	case *ast.UnaryExpr:
		if x.Op == token.ARROW {
			return "op"
		}
	case *ast.RangeStmt:
		if x.X == ref {
			return "op"
		}
	case *ast.CallExpr:
		switch calleeName(pass.TypesInfo, x) {
		case "len", "cap":
			return "op"
		}
	}
	return "escape"
}

func isMakeChan(pass *analysis.Pass, e ast.Expr) bool {
	call, ok := astutil.Unparen(e).(*ast.CallExpr)
	if !ok || calleeName(pass.TypesInfo, call) != "make" {
		return false
	}
	_, isChan := pass.TypesInfo.TypeOf(call).Underlying().(*types.Chan)
	return isChan
}

// leavesLoop reports whether body can end the loop without the channel closing:
// a return, goto, labelled break, or a break not captured by a nested statement.
func leavesLoop(body *ast.BlockStmt) bool {
	if breaksOut(body, true) {
		return true
	}
	found := false
	shallow(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ReturnStmt:
			found = true
		case *ast.BranchStmt:
			if x.Tok == token.GOTO {
				found = true
			}
		case *ast.CallExpr:
			// t.Fatal/FailNow and os.Exit/log.Fatal end the loop too.
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "Fatal", "Fatalf", "FailNow", "Exit", "Skip", "Skipf", "SkipNow", "Goexit":
					found = true
				}
			}
		}
		return !found
	})
	return found
}
