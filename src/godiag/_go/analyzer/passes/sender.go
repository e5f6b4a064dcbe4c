package passes

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// AbandonedSender flags the classic goroutine leak: a goroutine sends on an
// unbuffered channel whose only receive can be skipped (a select with another
// case, or a return between starting the goroutine and receiving).
// Also: a producer goroutine that sends more values than the buffer holds to a
// `for range` consumer that can leave early (checkRangeConsumers).
var AbandonedSender = &analysis.Analyzer{
	Name: "abandoned_sender",
	Doc:  "goroutine sends on an unbuffered channel whose only receiver can return early",
	Run:  runSender,
}

func runSender(pass *analysis.Pass) (any, error) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		parents := parentMap(body)
		shallow(body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 || !isUnbufferedMake(pass, as.Rhs[0]) {
				return true
			}
			if v := objOf(pass.TypesInfo, as.Lhs[0]); isLocal(v) {
				checkSender(pass, parents, body, v)
			}
			return true
		})
	})
	checkFieldSenders(pass)
	checkRangeConsumers(pass)
	return nil, nil
}

func isUnbufferedMake(pass *analysis.Pass, e ast.Expr) bool {
	call, ok := astutil.Unparen(e).(*ast.CallExpr)
	if !ok || calleeName(pass.TypesInfo, call) != "make" {
		return false
	}
	if _, ok := pass.TypesInfo.TypeOf(call).Underlying().(*types.Chan); !ok {
		return false
	}
	if len(call.Args) == 1 {
		return true
	}
	tv := pass.TypesInfo.Types[call.Args[1]]
	return tv.Value != nil && tv.Value.String() == "0"
}

// checkSender requires every use of ch to be: its make, sends inside one `go func`
// literal (reported at the first), and exactly one receive in the function itself.
func checkSender(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, ch *types.Var) {
	var send *ast.SendStmt
	var goStmt *ast.GoStmt
	var recv ast.Node    // the receiving expression
	var recvs []ast.Node // every receive, when there are several
	var closes []*ast.CallExpr
	for _, id := range identUses(pass.TypesInfo, body, ch) {
		switch p := parents[id].(type) {
		case *ast.AssignStmt:
			if len(p.Lhs) == 1 && p.Lhs[0] == id && isUnbufferedMake(pass, p.Rhs[0]) {
				continue
			}
			return
		case *ast.CallExpr:
			// close(ch) by the sender after its send still leaves the send waiting.
			if calleeName(pass.TypesInfo, p) != "close" || len(p.Args) != 1 || p.Args[0] != id {
				return
			}
			closes = append(closes, p)
		case *ast.SendStmt:
			// Several sends are fine when they are all in the one goroutine (a
			// result on each branch, `done <- false; return` ... `done <- true`):
			// it still makes exactly one of them, or waits at the first.
			g := enclosingGo(parents, p, body)
			if p.Chan != id || g == nil || inSelect(parents, p) || (goStmt != nil && g != goStmt) {
				return
			}
			if send == nil {
				send = p
			}
			goStmt = g
		case *ast.UnaryExpr:
			if p.Op != token.ARROW || enclosingFuncLit(parents, p, body) != nil {
				return
			}
			recvs = append(recvs, p)
			recv = p
		default:
			return
		}
	}
	if send == nil || recv == nil || recvs[0].Pos() < goStmt.End() {
		return
	}
	for _, c := range closes {
		if enclosingGo(parents, c, body) != goStmt {
			return // closed by someone else: a receive may be what ends the sender
		}
	}
	if len(recvs) > 1 {
		checkSelectGivesUp(pass, parents, body, ch, send, goStmt, recvs)
		return
	}
	if loop := loopAround(parents, goStmt, body); loop != nil && !within(recv, loop) && loopAround(parents, recv, body) == nil {
		// Fan-out, first reply wins: one goroutine per iteration, one receive in all.
		pass.Reportf(send.Pos(), "goroutines started in a loop (line %d) send on unbuffered channel %s, which is received from once: all senders but the first block forever; make it buffered with room for every sender (make(chan T, n)) or receive once per goroutine", posLine(pass.Fset, loop.Pos()), ch.Name())
		return
	}
	if sel := selectOf(parents, recv); sel != nil && len(sel.Body.List) > 1 && !receivedForever(pass, parents, recv, goStmt, body) {
		if siblingCases(pass, sel, recv, goStmt) {
			return
		}
		pass.Reportf(send.Pos(), "goroutine sends on unbuffered channel %s whose only receive is in a select that can take another case: the sender then blocks forever; make it buffered (make(chan T, 1)) or select on ctx.Done() in the sender", ch.Name())
		return
	}
	var early *ast.ReturnStmt
	shallow(body, func(n ast.Node) bool {
		if r, ok := n.(*ast.ReturnStmt); ok && early == nil && r.Pos() > goStmt.End() && r.End() < recv.Pos() {
			early = r
		}
		return early == nil
	})
	if early != nil {
		pass.Reportf(send.Pos(), "goroutine sends on unbuffered channel %s but the function can return (line %d) before receiving: the sender then blocks forever; make it buffered (make(chan T, 1))", ch.Name(), posLine(pass.Fset, early.Pos()))
	}
}

// checkSelectGivesUp handles a channel received from in several places: a select
// that receives from it in one case and, in another case, returns without
// receiving from it (`case <-stop: return` beside `case <-results:`) leaves the
// sender blocked when that case wins. The receives and the select must sit in
// the same loop iteration as the go statement (or outside any loop), so each
// goroutine has its own channel.
func checkSelectGivesUp(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, ch *types.Var, send *ast.SendStmt, goStmt *ast.GoStmt, recvs []ast.Node) {
	loop := loopAround(parents, goStmt, body)
	for _, r := range recvs {
		if loopAround(parents, r, body) != loop {
			return
		}
	}
	for _, r := range recvs {
		sel := selectOf(parents, r)
		if sel == nil || len(sel.Body.List) < 2 {
			continue
		}
		for _, c := range sel.Body.List {
			cc := c.(*ast.CommClause)
			if cc.Comm == nil || within(r, cc.Comm) || len(cc.Body) == 0 {
				continue
			}
			if _, ok := cc.Body[len(cc.Body)-1].(*ast.ReturnStmt); !ok {
				continue
			}
			receives := false
			for _, r2 := range recvs {
				receives = receives || within(r2, cc)
			}
			if receives || clauseFed(pass, cc, fedBy(pass, goStmt)) {
				continue
			}
			pass.Reportf(send.Pos(), "goroutine sends on unbuffered channel %s, but the select at line %d returns (line %d) without receiving from it when another case wins: the sender then blocks forever; make it buffered (make(chan T, 1)) or drain %s before returning",
				ch.Name(), posLine(pass.Fset, sel.Pos()), posLine(pass.Fset, cc.Body[len(cc.Body)-1].Pos()), ch.Name())
			return
		}
	}
}

// receivedForever: recv sits in a `for { ... }` loop without condition that does
// not start the goroutine and that only the end of the process leaves (os.Exit,
// log.Fatal): whichever other case the select takes, the loop comes back to the
// receive, so the sender is never abandoned (a dispatcher's `case out := <-res:`
// beside `case <-ticker:`).
func receivedForever(pass *analysis.Pass, parents map[ast.Node]ast.Node, recv ast.Node, goStmt *ast.GoStmt, body *ast.BlockStmt) bool {
	loop, ok := loopAround(parents, recv, body).(*ast.ForStmt)
	if !ok || loop.Cond != nil || within(goStmt, loop) || breaksOut(loop.Body, true) {
		return false
	}
	left := false
	shallow(loop.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ReturnStmt:
			left = true
		case *ast.BranchStmt:
			left = left || x.Tok == token.GOTO
		case *ast.CallExpr:
			name := calleeName(pass.TypesInfo, x)
			left = left || (exits(pass, x) && name != "os.Exit" && !strings.HasPrefix(name, "log.Fatal"))
		}
		return !left
	})
	return !left
}

// enclosingGo is the go statement whose function literal directly contains n.
func enclosingGo(parents map[ast.Node]ast.Node, n, stop ast.Node) *ast.GoStmt {
	lit := enclosingFuncLit(parents, n, stop)
	if lit == nil {
		return nil
	}
	call, ok := parents[lit].(*ast.CallExpr)
	if !ok || call.Fun != lit {
		return nil
	}
	g, _ := parents[call].(*ast.GoStmt)
	return g
}

func enclosingFuncLit(parents map[ast.Node]ast.Node, n, stop ast.Node) *ast.FuncLit {
	for cur := parents[n]; cur != nil && cur != stop; cur = parents[cur] {
		if lit, ok := cur.(*ast.FuncLit); ok {
			return lit
		}
	}
	return nil
}

// selectOf is the select statement whose communication clause is (or contains) n.
func selectOf(parents map[ast.Node]ast.Node, n ast.Node) *ast.SelectStmt {
	for cur := parents[n]; cur != nil; cur = parents[cur] {
		switch x := cur.(type) {
		case *ast.CommClause:
			if x.Comm != nil && x.Comm.Pos() <= n.Pos() && n.End() <= x.Comm.End() {
				s, _ := parents[parents[x]].(*ast.SelectStmt)
				return s
			}
			return nil
		case ast.Stmt:
			if _, ok := x.(*ast.ExprStmt); ok {
				continue
			}
			if _, ok := x.(*ast.AssignStmt); ok {
				continue
			}
			return nil
		}
	}
	return nil
}

func inSelect(parents map[ast.Node]ast.Node, n ast.Node) bool {
	c, ok := parents[n].(*ast.CommClause)
	return ok && c.Comm == n
}

// siblingCases: every other case of sel receives from a channel that the same
// goroutine sends on or closes (e.g. a result channel and an error channel fed by one
// goroutine, exactly one of which is sent): whichever case runs takes the send.
func siblingCases(pass *analysis.Pass, sel *ast.SelectStmt, recv ast.Node, g *ast.GoStmt) bool {
	fed := fedBy(pass, g)
	for _, c := range sel.Body.List {
		cc := c.(*ast.CommClause)
		if cc.Comm != nil && cc.Comm.Pos() <= recv.Pos() && recv.End() <= cc.Comm.End() {
			continue
		}
		if !clauseFed(pass, cc, fed) {
			return false
		}
	}
	return true
}

// fedBy: the channels goroutine g sends on or closes (close(done) on the
// goroutine's other exit readies a receive just as a send does).
func fedBy(pass *analysis.Pass, g *ast.GoStmt) map[*types.Var]bool {
	sent := map[*types.Var]bool{}
	ast.Inspect(g.Call.Fun, func(n ast.Node) bool {
		if s, ok := n.(*ast.SendStmt); ok {
			if v := objOf(pass.TypesInfo, s.Chan); v != nil {
				sent[v] = true
			}
		}
		if c, ok := n.(*ast.CallExpr); ok && calleeName(pass.TypesInfo, c) == "close" && len(c.Args) == 1 {
			if v := objOf(pass.TypesInfo, c.Args[0]); v != nil {
				sent[v] = true
			}
		}
		return true
	})
	return sent
}

// clauseFed: the clause receives from one of the fed channels (false for a
// default or a send case).
func clauseFed(pass *analysis.Pass, cc *ast.CommClause, fed map[*types.Var]bool) bool {
	var ch ast.Expr
	switch st := cc.Comm.(type) {
	case *ast.ExprStmt:
		if u, ok := st.X.(*ast.UnaryExpr); ok {
			ch = u.X
		}
	case *ast.AssignStmt:
		if u, ok := st.Rhs[0].(*ast.UnaryExpr); ok {
			ch = u.X
		}
	}
	if ch == nil {
		return false
	}
	v := objOf(pass.TypesInfo, ch)
	return v != nil && fed[v]
}

// loopAround is the innermost for/range statement of body enclosing n.
func loopAround(parents map[ast.Node]ast.Node, n, stop ast.Node) ast.Stmt {
	for cur := parents[n]; cur != nil && cur != stop; cur = parents[cur] {
		switch x := cur.(type) {
		case *ast.ForStmt:
			return x
		case *ast.RangeStmt:
			return x
		case *ast.FuncLit:
			return nil
		}
	}
	return nil
}

func within(n, outer ast.Node) bool {
	return outer.Pos() <= n.Pos() && n.End() <= outer.End()
}
