package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// CondNeverSignalled flags sync.Cond.Wait on a condition variable that nothing
// in the package ever signals: no Signal or Broadcast on it anywhere, so the
// waiter sleeps forever. Only conditions the package owns (a local, an
// unexported field or variable) whose every use is followed: Wait, Signal,
// Broadcast, its L, and its creation with sync.NewCond. Any other use (passed
// on, aliased, exported) may signal it elsewhere: no report.
var CondNeverSignalled = &analysis.Analyzer{
	Name: "cond_never_signalled",
	Doc:  "sync.Cond.Wait on a condition nothing in the package signals or broadcasts",
	Run:  runCondWait,
}

func runCondWait(pass *analysis.Pass) (any, error) {
	parents := map[ast.Node]ast.Node{}
	for _, f := range pass.Files {
		for k, v := range parentMap(f) {
			parents[k] = v
		}
	}
	type condUse struct {
		waits   []ast.Node
		signals int
		other   bool
	}
	uses := map[*types.Var]*condUse{}
	var order []*types.Var
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			v, ok := pass.TypesInfo.Uses[id].(*types.Var)
			if !ok || !isCond(v.Type()) || v.Pkg() != pass.Pkg {
				return true
			}
			u := uses[v]
			if u == nil {
				u = &condUse{}
				uses[v] = u
				order = append(order, v)
			}
			if v.Exported() || (!isLocal(v) && !v.IsField() && v.Parent() != pass.Pkg.Scope()) {
				u.other = true
				return true
			}
			var e ast.Expr = id
			if sel, ok := parents[id].(*ast.SelectorExpr); ok && sel.Sel == id {
				e = sel
			}
			switch p := parents[e].(type) {
			case *ast.SelectorExpr:
				switch p.Sel.Name {
				case "Wait":
					u.waits = append(u.waits, p)
				case "Signal", "Broadcast":
					u.signals++
				case "L":
				default:
					u.other = true
				}
			case *ast.AssignStmt:
				if !(len(p.Lhs) == len(p.Rhs) && isNewCondAt(pass, p, e)) {
					u.other = true
				}
			case *ast.KeyValueExpr:
				if p.Key != e || !isNewCond(pass, p.Value) {
					u.other = true
				}
			default:
				u.other = true
			}
			return true
		})
	}
	for _, v := range order {
		u := uses[v]
		if u.other || u.signals > 0 || len(u.waits) == 0 {
			continue
		}
		pass.Reportf(u.waits[0].Pos(), "%s.Wait() sleeps forever: nothing in the package calls Signal or Broadcast on %s; signal it where the condition changes (or use a channel)", v.Name(), v.Name())
	}
	return nil, nil
}

func isCond(t types.Type) bool { return isTypeNamed(t, "sync", "Cond") }

func isNewCond(pass *analysis.Pass, e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	return ok && calleeName(pass.TypesInfo, call) == "sync.NewCond"
}

// isNewCondAt: in assignment as, the value assigned to lhs is sync.NewCond(...).
func isNewCondAt(pass *analysis.Pass, as *ast.AssignStmt, lhs ast.Expr) bool {
	for i, l := range as.Lhs {
		if l == lhs {
			return isNewCond(pass, as.Rhs[i])
		}
	}
	return false
}
