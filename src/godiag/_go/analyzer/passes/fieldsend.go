package passes

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// checkFieldSenders: fire-and-forget goroutines hand values to a queue (an
// unexported channel field) whose single consumer is a range loop that can stop
// (return/break on an error). Once it has, the buffer fills and every later
// sender blocks forever. Only when the field is used for nothing else: made,
// sent on, and received by that one loop; never closed, never handed out.
func checkFieldSenders(pass *analysis.Pass) {
	parents := map[ast.Node]ast.Node{}
	for _, f := range pass.Files {
		for k, v := range parentMap(f) {
			parents[k] = v
		}
	}
	// Functions some go statement starts (go s.run(), go f(x)): their sends run
	// in a goroutine of their own just as a go func literal's do.
	started := map[*types.Func]bool{}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				id := funIdent(g.Call.Fun)
				if id != nil {
					if fn, ok := pass.TypesInfo.Uses[id].(*types.Func); ok {
						started[fn] = true
					}
				}
			}
			return true
		})
	}
	inGoroutine := func(f *ast.File, send *ast.SendStmt) bool {
		if enclosingGo(parents, send, nil) != nil {
			return true
		}
		if enclosingFuncLit(parents, send, nil) != nil {
			return false
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && within(send, fd) {
				fn, _ := pass.TypesInfo.Defs[fd.Name].(*types.Func)
				return fn != nil && started[fn]
			}
		}
		return false
	}
	verdict := map[*types.Var]ast.Stmt{}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			send, ok := n.(*ast.SendStmt)
			if !ok || inSelect(parents, send) {
				return true
			}
			sel, ok := send.Chan.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			v := objOf(pass.TypesInfo, sel)
			if v == nil || !v.IsField() || v.Exported() || v.Pkg() != pass.Pkg {
				return true
			}
			if !inGoroutine(f, send) {
				return true
			}
			loop, seen := verdict[v]
			if !seen {
				loop = soleStoppingConsumer(pass, parents, v)
				verdict[v] = loop
			}
			if loop != nil {
				kind := "range loop"
				if _, ok := loop.(*ast.ForStmt); ok {
					// A select-loop consumer usually comes with a buffer sized so
					// that producers finish: only unbuffered channels are reported.
					if !knownUnbuffered(pass, send.Chan) {
						return true
					}
					kind = "select loop"
				}
				pass.Reportf(send.Pos(), "goroutine sends on %s, whose only receiver is the %s at line %d, which can stop before the channel is drained: after that every sender blocks forever; select on a done channel (or ctx.Done()) in the sender, or keep the consumer draining", types.ExprString(sel), kind, posLine(pass.Fset, loop.Pos()))
			}
			return true
		})
	}
}

// soleStoppingConsumer is the one range loop receiving from field v, if it has
// its own exit and every other use of v is a make, a declaration or a send.
func soleStoppingConsumer(pass *analysis.Pass, parents map[ast.Node]ast.Node, v *types.Var) ast.Stmt {
	var loop *ast.RangeStmt
	var forSel *ast.ForStmt // a for { select { case x := <-v: ...; case <-stop: return } } consumer
	ok := true
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			id, isID := n.(*ast.Ident)
			if !ok || !isID || (pass.TypesInfo.Uses[id] != v && pass.TypesInfo.Defs[id] != v) {
				return ok
			}
			var ref ast.Expr = id
			if s, isSel := parents[id].(*ast.SelectorExpr); isSel && s.Sel == id {
				ref = s
			}
			switch p := parents[ref].(type) {
			case *ast.RangeStmt:
				if p.X != ref || loop != nil {
					ok = false
				}
				loop = p
				return true
			case *ast.UnaryExpr:
				if p.Op == token.ARROW {
					if l := stoppingSelectLoop(parents, p); l != nil && forSel == nil && loop == nil {
						forSel = l
						return true
					}
					ok = false // another receiver
					return false
				}
			}
			switch chanUse(pass, parents, ref) {
			case "make", "decl", "op":
			default:
				ok = false
			}
			return ok
		})
	}
	if !ok {
		return nil
	}
	if forSel != nil {
		if loop != nil {
			return nil
		}
		return forSel
	}
	if loop == nil || !leavesLoop(loop.Body) {
		return nil
	}
	return loop
}

// stoppingSelectLoop: recv is the communication of a select case, the select is
// the body of a for loop, and another case of it returns: the consumer can quit
// while producers still send.
func stoppingSelectLoop(parents map[ast.Node]ast.Node, recv ast.Node) *ast.ForStmt {
	sel := selectOf(parents, recv)
	if sel == nil {
		return nil
	}
	block, ok := parents[sel].(*ast.BlockStmt)
	if !ok {
		return nil
	}
	loop, ok := parents[block].(*ast.ForStmt)
	if !ok || loop.Cond != nil {
		return nil
	}
	for _, c := range sel.Body.List {
		cc := c.(*ast.CommClause)
		if cc.Comm != nil && within(recv, cc.Comm) {
			continue
		}
		returns := false
		for _, st := range cc.Body {
			shallow(st, func(n ast.Node) bool {
				if _, ok := n.(*ast.ReturnStmt); ok {
					returns = true
				}
				return !returns
			})
		}
		if returns {
			return loop
		}
	}
	return nil
}
