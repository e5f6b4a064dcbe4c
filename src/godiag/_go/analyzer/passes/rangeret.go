package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// checkEarlyReturn finds the producer side of a pipeline stage: a function that
// makes a channel, starts the goroutine ranging over it, and closes it with a
// plain (not deferred) close that a return before it skips. On that path the
// stage's `for range` never ends. Every use of the channel in the producer must be
// one of those (plus sends and receives); anything else and we say nothing.
func checkEarlyReturn(pass *analysis.Pass) {
	madeChans(pass, func(parents map[ast.Node]ast.Node, body *ast.BlockStmt, _ *ast.AssignStmt, ch *types.Var) {
		checkProducer(pass, parents, body, ch)
	})
}

// madeChans calls fn for every `ch := make(chan T[, n])` of a local variable, with
// the body of the function that makes it and that body's parent map.
func madeChans(pass *analysis.Pass, fn func(parents map[ast.Node]ast.Node, body *ast.BlockStmt, as *ast.AssignStmt, ch *types.Var)) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		parents := parentMap(body)
		shallow(body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 || !isMakeChan(pass, as.Rhs[0]) {
				return true
			}
			if v := objOf(pass.TypesInfo, as.Lhs[0]); isLocal(v) {
				fn(parents, body, as, v)
			}
			return true
		})
	})
}

func checkProducer(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, ch *types.Var) {
	var goStmt *ast.GoStmt
	var closeCall *ast.CallExpr
	var loop *ast.RangeStmt
	for _, id := range identUses(pass.TypesInfo, body, ch) {
		if enclosingFuncLit(parents, id, body) != nil {
			return // used inside a literal: not followed
		}
		switch p := parents[id].(type) {
		case *ast.AssignStmt:
			if len(p.Lhs) == 1 && p.Lhs[0] == id && isMakeChan(pass, p.Rhs[0]) {
				continue
			}
			return
		case *ast.SendStmt:
			if p.Chan != id {
				return
			}
		case *ast.UnaryExpr:
			if p.Op.String() != "<-" {
				return
			}
		case *ast.CallExpr:
			if calleeName(pass.TypesInfo, p) == "close" && closeCall == nil {
				if _, deferred := parents[p].(*ast.DeferStmt); deferred {
					return
				}
				closeCall = p
				continue
			}
			g, ok := parents[p].(*ast.GoStmt)
			if !ok || goStmt != nil {
				return
			}
			if loop = rangeOverArg(pass, p, id); loop == nil {
				return
			}
			goStmt = g
		default:
			return
		}
	}
	if goStmt == nil || closeCall == nil || closeCall.Pos() < goStmt.End() {
		return
	}
	if l := loopAround(parents, closeCall, body); l != nil && !within(goStmt, l) {
		return // closed inside a loop of its own: too clever to follow
	}
	var early *ast.ReturnStmt
	shallow(body, func(n ast.Node) bool {
		if r, ok := n.(*ast.ReturnStmt); ok && early == nil && r.Pos() > goStmt.End() && r.End() < closeCall.Pos() {
			early = r
		}
		return early == nil
	})
	if early == nil {
		return
	}
	pass.Reportf(loop.Pos(), "for range over channel %s, whose producer returns at line %d before its close(%s) at line %d: on that path the loop (and its goroutine) never ends; defer close(%s) right after starting the goroutine",
		ch.Name(), posLine(pass.Fset, early.Pos()), ch.Name(), posLine(pass.Fset, closeCall.Pos()), ch.Name())
}

// rangeOverArg: call is `go f(..., arg, ...)` with f a function of this package
// whose matching parameter is ranged over by a loop with no exit of its own.
func rangeOverArg(pass *analysis.Pass, call *ast.CallExpr, arg ast.Expr) *ast.RangeStmt {
	id := funIdent(call.Fun)
	if id == nil {
		return nil
	}
	fn, ok := pass.TypesInfo.Uses[id].(*types.Func)
	if !ok || fn.Pkg() != pass.Pkg {
		return nil
	}
	sig := fn.Type().(*types.Signature)
	idx := -1
	for i, a := range call.Args {
		if a == arg {
			idx = i
		}
	}
	if idx < 0 || idx >= sig.Params().Len() || (sig.Variadic() && idx >= sig.Params().Len()-1) {
		return nil
	}
	param := sig.Params().At(idx)
	decl := funcDeclOf(pass, fn)
	if decl == nil || decl.Body == nil {
		return nil
	}
	var loop *ast.RangeStmt
	shallow(decl.Body, func(n ast.Node) bool {
		if rs, ok := n.(*ast.RangeStmt); ok && loop == nil && objOf(pass.TypesInfo, rs.X) == param && !leavesLoop(rs.Body) {
			loop = rs
		}
		return loop == nil
	})
	return loop
}
