package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// LostCancelWatcher flags a goroutine that waits on ctx.Done() of a context whose
// cancel function is discarded or never used: nothing can ever wake it, so it
// lives as long as the parent context (usually forever).
// In a program (package main) it also follows a cancel kept in a struct field
// whose only calls are in code the program never reaches, or reaches only once
// the watcher's own wait has ended (checkStoredCancel).
var LostCancelWatcher = &analysis.Analyzer{
	Name: "lost_cancel_watcher",
	Doc:  "goroutine waits on ctx.Done() of a context whose cancel is discarded or never called",
	Run:  runCancel,
}

func runCancel(pass *analysis.Pass) (any, error) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		shallow(body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || !isWithCancel(pass, as) {
				return true
			}
			ctx := objOf(pass.TypesInfo, as.Lhs[0])
			if !isLocal(ctx) || !cancelLost(pass, body, as.Lhs[1]) {
				return true
			}
			shallow(body, func(m ast.Node) bool {
				g, ok := m.(*ast.GoStmt)
				if !ok || g.Pos() < as.End() {
					return true
				}
				lit, ok := g.Call.Fun.(*ast.FuncLit)
				if !ok {
					return true
				}
				if done := doneCall(pass, lit.Body, ctx); done != nil {
					pass.Reportf(done.Pos(), "goroutine waits on %s.Done() but the cancel function of %s is discarded or never called, so it is only woken when the parent context ends: keep cancel and defer cancel() (or call it when the work is done)", ctx.Name(), ctx.Name())
				}
				return true
			})
			return true
		})
	})
	checkStoredCancel(pass)
	return nil, nil
}

// cancelLost: the cancel result is `_`, or a variable never mentioned again.
func cancelLost(pass *analysis.Pass, body *ast.BlockStmt, lhs ast.Expr) bool {
	id, ok := lhs.(*ast.Ident)
	if !ok {
		return false
	}
	if id.Name == "_" {
		return true
	}
	v, ok := pass.TypesInfo.Defs[id].(*types.Var)
	if !ok || v == nil {
		return false // assigned to an existing variable: may be used elsewhere
	}
	return len(identUses(pass.TypesInfo, body, v)) == 0
}

// doneCall finds ctx.Done() inside body (including nested literals).
func doneCall(pass *analysis.Pass, body ast.Node, ctx *types.Var) *ast.CallExpr {
	var found *ast.CallExpr
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found != nil {
			return found == nil
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Done" && objOf(pass.TypesInfo, sel.X) == ctx {
			found = call
		}
		return true
	})
	return found
}

// isWithCancel: `ctx, cancel := context.WithCancel(...)` (or WithCancelCause).
func isWithCancel(pass *analysis.Pass, as *ast.AssignStmt) bool {
	if len(as.Lhs) != 2 || len(as.Rhs) != 1 {
		return false
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok {
		return false
	}
	switch calleeName(pass.TypesInfo, call) {
	case "context.WithCancel", "context.WithCancelCause":
		return true
	}
	return false
}
