package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// WaitGroupMissingDone flags three WaitGroup mistakes around `go func` literals:
// the goroutine has a return path that skips a non-deferred Done (Wait then
// hangs), Add called inside the goroutine itself (racing with Wait), and Wait
// inside the loop that starts the goroutines after one Add for all of them
// (the first Wait waits for goroutines the loop has not started yet).
var WaitGroupMissingDone = &analysis.Analyzer{
	Name: "waitgroup_missing_done",
	Doc:  "WaitGroup goroutine returns without Done, or calls Add itself",
	Run:  runWaitGroup,
}

func isWG(pass *analysis.Pass, call *ast.CallExpr, method string) (*types.Var, bool) {
	if calleeName(pass.TypesInfo, call) != "(*sync.WaitGroup)."+method {
		return nil, false
	}
	v := objOf(pass.TypesInfo, recvExpr(call))
	return v, v != nil
}

func runWaitGroup(pass *analysis.Pass) (any, error) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		parents := parentMap(body)
		// Add calls made by this function itself, outside any literal.
		outerAdd := map[*types.Var]bool{}
		shallow(body, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if v, ok := isWG(pass, call, "Add"); ok {
					outerAdd[v] = true
				}
			}
			return true
		})
		shallow(body, func(n ast.Node) bool {
			g, ok := n.(*ast.GoStmt)
			if !ok {
				return true
			}
			lit, ok := g.Call.Fun.(*ast.FuncLit)
			if !ok {
				return true
			}
			checkGoroutineWG(pass, parents, lit, outerAdd)
			return true
		})
		shallow(body, func(n ast.Node) bool {
			switch loop := n.(type) {
			case *ast.ForStmt:
				checkWaitInLoop(pass, parents, body, loop, loop.Body)
			case *ast.RangeStmt:
				checkWaitInLoop(pass, parents, body, loop, loop.Body)
			}
			return true
		})
	})
	return nil, nil
}

// checkWaitInLoop: `wg.Add(n)` before the loop, then in each iteration `go func`
// calling wg.Done followed by wg.Wait(). The counter holds n but the first Wait
// has only one goroutine to wait for, so it blocks before the loop starts the
// others. Reported only when nothing in the loop calls Add on the same WaitGroup
// and n is not the constant 1 (Add(1) then Done twice panics rather than hangs).
func checkWaitInLoop(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, loop ast.Stmt, loopBody *ast.BlockStmt) {
	var wait *ast.CallExpr
	var v *types.Var
	shallow(loopBody, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && wait == nil {
			if w, ok := isWG(pass, call, "Wait"); ok {
				wait, v = call, w
			}
		}
		return wait == nil
	})
	if wait == nil {
		return
	}
	addInLoop, doneBefore := false, false
	ast.Inspect(loopBody, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if w, ok := isWG(pass, x, "Add"); ok && w == v {
				addInLoop = true
			}
		case *ast.GoStmt:
			if lit, ok := x.Call.Fun.(*ast.FuncLit); ok && x.End() < wait.Pos() && callsWG(pass, lit.Body, v, "Done") {
				doneBefore = true
			}
		}
		return true
	})
	if addInLoop || !doneBefore {
		return
	}
	var add *ast.CallExpr
	isAdd := func(s ast.Stmt) bool {
		es, ok := s.(*ast.ExprStmt)
		if !ok {
			return false
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return false
		}
		if w, ok := isWG(pass, call, "Add"); ok && w == v {
			add = call
			return true
		}
		return false
	}
	if !precededBy(parents, loop, body, isAdd) || add == nil {
		return
	}
	if tv := pass.TypesInfo.Types[add.Args[0]]; tv.Value != nil && tv.Value.String() == "1" {
		return
	}
	pass.Reportf(wait.Pos(), "%s.Wait inside the loop that starts the goroutines, after %s.Add(%s) for all of them (line %d): the first Wait waits for goroutines the loop has not started yet and blocks forever; move %s.Wait() after the loop", v.Name(), v.Name(), types.ExprString(add.Args[0]), posLine(pass.Fset, add.Pos()), v.Name())
}

// callsWG: body (function literals included) calls method on the WaitGroup v.
func callsWG(pass *analysis.Pass, body ast.Node, v *types.Var, method string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && !found {
			if w, ok := isWG(pass, call, method); ok && w == v {
				found = true
			}
		}
		return !found
	})
	return found
}

func checkGoroutineWG(pass *analysis.Pass, parents map[ast.Node]ast.Node, lit *ast.FuncLit, outerAdd map[*types.Var]bool) {
	adds := map[*types.Var]*ast.CallExpr{}
	dones := map[*types.Var][]*ast.CallExpr{}
	deferred := map[*types.Var]bool{}
	shallow(lit.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.DeferStmt:
			if v, ok := isWG(pass, x.Call, "Done"); ok {
				deferred[v] = true
			}
		case *ast.CallExpr:
			if v, ok := isWG(pass, x, "Add"); ok && adds[v] == nil {
				adds[v] = x
			}
			if v, ok := isWG(pass, x, "Done"); ok {
				dones[v] = append(dones[v], x)
			}
		}
		return true
	})
	for v, add := range adds {
		// The goroutine registers itself: nothing orders this Add before Wait.
		if (deferred[v] || len(dones[v]) > 0) && !outerAdd[v] && isLocalOrCaptured(v) {
			pass.Reportf(add.Pos(), "%s.Add is called inside the goroutine it counts, so %s.Wait can run before it and return early: call %s.Add(1) before the go statement", v.Name(), v.Name(), v.Name())
		}
	}
	for v, ds := range dones {
		if deferred[v] || !outerAdd[v] {
			continue
		}
		isDone := func(s ast.Stmt) bool {
			found := false
			shallow(s, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if w, ok := isWG(pass, call, "Done"); ok && w == v {
						found = true
					}
				}
				return !found
			})
			return found
		}
		var bad *ast.ReturnStmt
		shallow(lit.Body, func(n ast.Node) bool {
			r, ok := n.(*ast.ReturnStmt)
			if ok && bad == nil && r.Pos() < ds[len(ds)-1].Pos() && !precededBy(parents, r, lit.Body, isDone) {
				bad = r
			}
			return bad == nil
		})
		if bad != nil {
			pass.Reportf(bad.Pos(), "goroutine returns here without calling %s.Done, so %s.Wait never returns: use defer %s.Done() at the top of the goroutine", v.Name(), v.Name(), v.Name())
		}
	}
}

func isLocalOrCaptured(v *types.Var) bool { return isLocal(v) }
