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
	verdict := map[*types.Var]*ast.RangeStmt{}
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
			if enclosingGo(parents, send, nil) == nil {
				return true
			}
			loop, seen := verdict[v]
			if !seen {
				loop = soleStoppingConsumer(pass, parents, v)
				verdict[v] = loop
			}
			if loop != nil {
				pass.Reportf(send.Pos(), "goroutine sends on %s, whose only receiver is the range loop at line %d, which can stop before the channel is drained: after that every sender blocks forever; select on a done channel (or ctx.Done()) in the sender, or keep the consumer draining", types.ExprString(sel), posLine(pass.Fset, loop.Pos()))
			}
			return true
		})
	}
}

// soleStoppingConsumer is the one range loop receiving from field v, if it has
// its own exit and every other use of v is a make, a declaration or a send.
func soleStoppingConsumer(pass *analysis.Pass, parents map[ast.Node]ast.Node, v *types.Var) *ast.RangeStmt {
	var loop *ast.RangeStmt
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
	if !ok || loop == nil || !leavesLoop(loop.Body) {
		return nil
	}
	return loop
}
