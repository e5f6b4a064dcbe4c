package passes

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// checkRangeConsumers finds a pipeline whose consumer gives up: a function makes
// a channel, starts one goroutine that sends on it in a loop (plain sends, not in
// a select), and ranges over it with a loop that can leave early (return, break,
// goto). Once the consumer has left, nothing receives any more: the producer
// blocks on its next send as soon as the buffer is full. Reported when the
// buffer cannot hold every send: an unbuffered channel, or a constant capacity
// below a constant loop count. Every use of the channel must be one of those
// (plus close by the producer); anything else and nothing is said.
func checkRangeConsumers(pass *analysis.Pass) {
	madeChans(pass, func(parents map[ast.Node]ast.Node, body *ast.BlockStmt, as *ast.AssignStmt, ch *types.Var) {
		if capacity, known := makeCap(pass, as.Rhs[0]); known {
			checkRangeConsumer(pass, parents, body, ch, capacity)
		}
	})
}

// makeCap is the constant capacity of make(chan T[, n]).
func makeCap(pass *analysis.Pass, e ast.Expr) (int64, bool) {
	call := astutil.Unparen(e).(*ast.CallExpr)
	if len(call.Args) == 1 {
		return 0, true
	}
	tv := pass.TypesInfo.Types[call.Args[1]]
	if tv.Value == nil {
		return 0, false
	}
	n, ok := constant.Int64Val(constant.ToInt(tv.Value))
	return n, ok
}

func checkRangeConsumer(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, ch *types.Var, capacity int64) {
	var goStmt *ast.GoStmt
	var loop *ast.RangeStmt
	var sends []*ast.SendStmt // sends of the producer, in whatever function they are
	producer := func(id *ast.Ident) bool {
		g, _ := parents[parents[id]].(*ast.GoStmt) // go f(ch)
		if g == nil {
			g = enclosingGo(parents, id, body)
		}
		if g == nil || (goStmt != nil && g != goStmt) {
			return false
		}
		goStmt = g
		return true
	}
	for _, id := range identUses(pass.TypesInfo, body, ch) {
		switch p := parents[id].(type) {
		case *ast.AssignStmt:
			if len(p.Lhs) == 1 && p.Lhs[0] == id && isMakeChan(pass, p.Rhs[0]) {
				continue
			}
			return
		case *ast.RangeStmt:
			if p.X != id || loop != nil || enclosingFuncLit(parents, p, body) != nil {
				return
			}
			loop = p
		case *ast.SendStmt:
			if p.Chan != id || inSelect(parents, p) || !producer(id) {
				return
			}
			sends = append(sends, p)
		case *ast.CallExpr:
			if !producer(id) {
				return
			}
			if calleeName(pass.TypesInfo, p) == "close" {
				continue
			}
			s, ok := paramSends(pass, p, id)
			if !ok {
				return
			}
			sends = append(sends, s...)
		default:
			return
		}
	}
	if loop == nil || goStmt == nil || len(sends) == 0 || loop.Pos() < goStmt.End() {
		return
	}
	exit := earlyExit(loop.Body)
	if exit == nil {
		return
	}
	// The consumer takes at least one value before it can leave; the buffer holds
	// capacity more. A sender with more sends than that blocks on the next one.
	total, bounded := int64(0), true
	for _, s := range sends {
		n, ok := sendCount(pass, s)
		total, bounded = total+n, bounded && ok
	}
	if bounded && total <= capacity+1 {
		return
	}
	full := "it is unbuffered"
	if capacity > 0 {
		full = fmt.Sprintf("its buffer of %d is full", capacity)
	}
	pass.Reportf(sends[0].Pos(), "goroutine sends on %s more times than the channel holds, but the for range over %s at line %d can leave early (line %d): nothing receives after that, so the sender blocks forever (%s); keep draining the channel after leaving, or make the sender select on a done channel",
		types.ExprString(sends[0].Chan), ch.Name(), posLine(pass.Fset, loop.Pos()), posLine(pass.Fset, exit.Pos()), full)
}

// paramSends: call passes arg to a function of this package whose matching
// parameter is used only for plain sends (and close); its sends, false otherwise.
func paramSends(pass *analysis.Pass, call *ast.CallExpr, arg ast.Expr) ([]*ast.SendStmt, bool) {
	id := funIdent(call.Fun)
	if id == nil {
		return nil, false
	}
	fn, ok := pass.TypesInfo.Uses[id].(*types.Func)
	if !ok || fn.Pkg() != pass.Pkg {
		return nil, false
	}
	sig := fn.Type().(*types.Signature)
	idx := -1
	for i, a := range call.Args {
		if a == arg {
			idx = i
		}
	}
	if idx < 0 || idx >= sig.Params().Len() || (sig.Variadic() && idx >= sig.Params().Len()-1) {
		return nil, false
	}
	param := sig.Params().At(idx)
	decl := funcDeclOf(pass, fn)
	if decl == nil || decl.Body == nil {
		return nil, false
	}
	parents := parentMap(decl.Body)
	var sends []*ast.SendStmt
	for _, u := range identUses(pass.TypesInfo, decl.Body, param) {
		switch p := parents[u].(type) {
		case *ast.SendStmt:
			if p.Chan != u || inSelect(parents, p) || enclosingFuncLit(parents, p, decl.Body) != nil {
				return nil, false
			}
			sends = append(sends, p)
		case *ast.CallExpr:
			if calleeName(pass.TypesInfo, p) != "close" {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return sends, true
}

// earlyExit is a statement by which the range body leaves the loop before the
// channel is closed: a return, a goto, or a break out of it.
func earlyExit(body *ast.BlockStmt) ast.Node {
	var found ast.Node
	var walk func(n ast.Node, inner bool)
	walk = func(n ast.Node, inner bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if found != nil || m == nil {
				return false
			}
			switch x := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				found = x
			case *ast.BranchStmt:
				if x.Tok == token.GOTO || (x.Tok == token.BREAK && (x.Label != nil || !inner)) {
					found = x
				}
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				if m != n {
					walk(m, true)
					return false
				}
			}
			return true
		})
	}
	walk(body, false)
	return found
}

// sendCount is how many times send can run: 1 outside any loop, the constant
// trip count of an enclosing `for i := a; i < b; i++` (a and b constant), else
// unbounded.
func sendCount(pass *analysis.Pass, send *ast.SendStmt) (int64, bool) {
	var fnBody ast.Node
	for _, f := range pass.Files {
		if f.Pos() <= send.Pos() && send.End() <= f.End() {
			fnBody = f
		}
	}
	if fnBody == nil {
		return 0, false
	}
	parents := parentMap(fnBody)
	total := int64(1)
	for cur := parents[send]; cur != nil; cur = parents[cur] {
		switch x := cur.(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return total, true
		case *ast.RangeStmt:
			return 0, false
		case *ast.ForStmt:
			n, ok := tripCount(pass, x)
			if !ok {
				return 0, false
			}
			total *= n
		}
	}
	return total, true
}

func tripCount(pass *analysis.Pass, f *ast.ForStmt) (int64, bool) {
	init, ok := f.Init.(*ast.AssignStmt)
	if !ok || len(init.Lhs) != 1 || len(init.Rhs) != 1 {
		return 0, false
	}
	cond, ok := f.Cond.(*ast.BinaryExpr)
	if !ok || cond.Op != token.LSS || types.ExprString(cond.X) != types.ExprString(init.Lhs[0]) {
		return 0, false
	}
	post, ok := f.Post.(*ast.IncDecStmt)
	if !ok || post.Tok != token.INC || types.ExprString(post.X) != types.ExprString(init.Lhs[0]) {
		return 0, false
	}
	lo, hi := pass.TypesInfo.Types[init.Rhs[0]].Value, pass.TypesInfo.Types[cond.Y].Value
	if lo == nil || hi == nil {
		return 0, false
	}
	a, ok1 := constant.Int64Val(constant.ToInt(lo))
	b, ok2 := constant.Int64Val(constant.ToInt(hi))
	if !ok1 || !ok2 || b < a {
		return 0, false
	}
	return b - a, true
}
