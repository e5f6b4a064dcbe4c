package passes

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// LockHeldBlocking flags a sync.Mutex/RWMutex held across an operation that can
// block for an unbounded time: a channel send or receive, a select without
// default, WaitGroup.Wait, time.Sleep, or a network call.
var LockHeldBlocking = &analysis.Analyzer{
	Name: "lock_held_blocking",
	Doc:  "mutex held across a channel operation, WaitGroup.Wait, time.Sleep or network call",
	Run:  runLock,
}

var lockMethods = map[string]string{
	"(*sync.Mutex).Lock":    "Unlock",
	"(*sync.RWMutex).Lock":  "Unlock",
	"(*sync.RWMutex).RLock": "RUnlock",
}

// Calls that block on something outside the program's control.
var blockingCalls = map[string]string{
	"(*sync.WaitGroup).Wait":      "WaitGroup.Wait",
	"time.Sleep":                  "time.Sleep",
	"net.Dial":                    "net.Dial",
	"net.DialTimeout":             "net.DialTimeout",
	"(*net.Dialer).Dial":          "net.Dialer.Dial",
	"(*net.Dialer).DialContext":   "net.Dialer.DialContext",
	"net/http.Get":                "http.Get",
	"net/http.Post":               "http.Post",
	"net/http.Head":               "http.Head",
	"net/http.PostForm":           "http.PostForm",
	"(*net/http.Client).Do":       "http.Client.Do",
	"(*net/http.Client).Get":      "http.Client.Get",
	"(*net/http.Client).Post":     "http.Client.Post",
	"(*net/http.Client).Head":     "http.Client.Head",
	"(*net/http.Client).PostForm": "http.Client.PostForm",
}

func runLock(pass *analysis.Pass) (any, error) {
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			list, ok := stmtList(n)
			if !ok {
				return true
			}
			scanLocked(pass, list)
			return true
		})
	}
	return nil, nil
}

func lockCall(pass *analysis.Pass, s ast.Stmt) (key, unlock string) {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return "", ""
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return "", ""
	}
	un, ok := lockMethods[calleeName(pass.TypesInfo, call)]
	if !ok || recvExpr(call) == nil {
		return "", ""
	}
	return types.ExprString(recvExpr(call)), un
}

// mentionsUnlock: s (anywhere inside, literals excluded) calls key.unlock().
func mentionsUnlock(s ast.Node, key, unlock string) bool {
	found := false
	shallow(s, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == unlock && types.ExprString(sel.X) == key {
				found = true
			}
		}
		return !found
	})
	return found
}

// scanLocked looks at the statements after each Lock in one statement list, up
// to the matching Unlock (or the list's end after `defer Unlock`), and stops at
// the first statement that might unlock on some branch.
//
// What is reported, to stay precise:
//   - a send on a channel the package makes unbuffered (it waits for a receiver);
//   - time.Sleep and network calls under an exclusive Lock (RLock blocks only writers);
//   - a receive, a select without default or WaitGroup.Wait only when the code that
//     would wake it (closes/sends on that field's channel, or calls Done on that
//     WaitGroup field) itself takes the same lock field: a wait-for cycle, i.e. a deadlock.
func scanLocked(pass *analysis.Pass, list []ast.Stmt) {
	for i, s := range list {
		key, unlock := lockCall(pass, s)
		if key == "" {
			continue
		}
		call := s.(*ast.ExprStmt).X.(*ast.CallExpr)
		exclusive := unlock == "Unlock"
		lockVar := objOf(pass.TypesInfo, recvExpr(call))
		// report checks the blocking operations of t run with the lock held and
		// reports the first one that counts; true when it reported.
		report := func(t ast.Stmt) bool {
			for _, op := range blockingOps(pass, t) {
				why := ""
				switch op.kind {
				case "send":
				case "sleep", "net":
					if !exclusive {
						continue
					}
				default:
					waker := wakerTakingLock(pass, lockVar, op.targets, op.kind)
					if waker == "" {
						continue
					}
					why = fmt.Sprintf(" and %s, which would end the wait, takes %s too: deadlock", waker, key)
				}
				tail := ": every other user of the lock waits as long as this blocks; release the lock before blocking, or copy what you need under the lock"
				if why != "" {
					tail = why + "; unlock before waiting and re-lock after"
				}
				pass.Reportf(op.at.Pos(), "%s while holding %s (locked at line %d)%s", op.what, key, posLine(pass.Fset, s.Pos()), tail)
				return true
			}
			return false
		}
		for _, t := range list[i+1:] {
			if d, ok := t.(*ast.DeferStmt); ok && mentionsUnlock(d, key, unlock) {
				continue
			}
			if mentionsUnlock(t, key, unlock) {
				// `if cond { <-ch; mu.Unlock() } else { mu.Unlock() }`: what a
				// branch does before its unlock still runs locked.
				for _, pre := range beforeUnlock(t, key, unlock) {
					if report(pre) {
						break
					}
				}
				break
			}
			if k2, _ := lockCall(pass, t); k2 == key {
				break
			}
			if relock(pass, t, call) {
				break
			}
			if report(t) {
				break
			}
		}
	}
}

// beforeUnlock: for an if statement whose branches unlock key, the statements of
// each branch before its first statement that mentions the unlock (top level of
// the branch only).
func beforeUnlock(t ast.Stmt, key, unlock string) []ast.Stmt {
	ifs, ok := t.(*ast.IfStmt)
	if !ok {
		return nil
	}
	var out []ast.Stmt
	branch := func(b ast.Stmt) {
		switch x := b.(type) {
		case *ast.BlockStmt:
			for _, st := range x.List {
				if mentionsUnlock(st, key, unlock) {
					return
				}
				out = append(out, st)
			}
		case *ast.IfStmt:
			out = append(out, beforeUnlock(x, key, unlock)...)
		}
	}
	branch(ifs.Body)
	if ifs.Else != nil {
		branch(ifs.Else)
	}
	return out
}

type blockingOp struct {
	kind    string // send, recv, select, wait, sleep, net
	what    string
	at      ast.Node
	targets []ast.Expr // channels received from / WaitGroup waited on
}

// blockingOps lists the blocking operations of s in order, ignoring function
// literals, go and defer statements, and selects that have a default case.
func blockingOps(pass *analysis.Pass, s ast.Stmt) []blockingOp {
	var ops []blockingOp
	shallow(s, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.SelectStmt:
			if len(x.Body.List) == 0 {
				return false // select {}: parks on purpose (e.g. before a crash), waits for nothing
			}
			var targets []ast.Expr
			hasDefault := false
			for _, c := range x.Body.List {
				cc := c.(*ast.CommClause)
				switch st := cc.Comm.(type) {
				case nil:
					hasDefault = true
				case *ast.ExprStmt:
					if u, ok := st.X.(*ast.UnaryExpr); ok {
						targets = append(targets, u.X)
					}
				case *ast.AssignStmt:
					if u, ok := st.Rhs[0].(*ast.UnaryExpr); ok {
						targets = append(targets, u.X)
					}
				}
			}
			if !hasDefault {
				ops = append(ops, blockingOp{"select", "select without default", x, targets})
			}
			// The case bodies still run locked.
			for _, c := range x.Body.List {
				for _, st := range c.(*ast.CommClause).Body {
					ops = append(ops, blockingOps(pass, st)...)
				}
			}
			return false
		case *ast.SendStmt:
			// Buffered channels sized for their sends (result and notify channels)
			// never block: only sends on channels this package makes unbuffered count.
			if knownUnbuffered(pass, x.Chan) {
				ops = append(ops, blockingOp{"send", "channel send on " + types.ExprString(x.Chan), x, nil})
			}
		case *ast.UnaryExpr:
			if x.Op.String() == "<-" {
				ops = append(ops, blockingOp{"recv", "channel receive from " + types.ExprString(x.X), x, []ast.Expr{x.X}})
			}
		case *ast.CallExpr:
			name := calleeName(pass.TypesInfo, x)
			switch label := blockingCalls[name]; {
			case name == "(*sync.WaitGroup).Wait":
				ops = append(ops, blockingOp{"wait", label, x, []ast.Expr{recvExpr(x)}})
			case name == "time.Sleep":
				ops = append(ops, blockingOp{"sleep", label, x, nil})
			case label != "":
				ops = append(ops, blockingOp{"net", label, x, nil})
			default:
				if op, ok := blockingCallee(pass, x); ok {
					ops = append(ops, op)
				}
			}
		}
		return true
	})
	return ops
}

// wakerTakingLock names a function of the package that would end the wait on one
// of targets (close or send on the channel field, Done on the WaitGroup field) and
// that takes lockVar itself, directly or through a function it calls; "" if none.
func wakerTakingLock(pass *analysis.Pass, lockVar *types.Var, targets []ast.Expr, kind string) string {
	if lockVar == nil || !lockVar.IsField() {
		return ""
	}
	fields := map[*types.Var]bool{}
	for _, t := range targets {
		if v := objOf(pass.TypesInfo, t); v != nil && v.IsField() {
			fields[v] = true
		}
	}
	if len(fields) == 0 {
		return ""
	}
	decls := map[types.Object]*ast.FuncDecl{}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				decls[pass.TypesInfo.Defs[fd.Name]] = fd
			}
		}
	}
	wakes := func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SendStmt:
			return kind != "wait" && fields[objOf(pass.TypesInfo, x.Chan)]
		case *ast.CallExpr:
			name := calleeName(pass.TypesInfo, x)
			if name == "close" && len(x.Args) == 1 && kind != "wait" {
				return fields[objOf(pass.TypesInfo, x.Args[0])]
			}
			if name == "(*sync.WaitGroup).Done" && kind == "wait" {
				return fields[objOf(pass.TypesInfo, recvExpr(x))]
			}
		}
		return false
	}
	found := ""
	funcs(pass, func(_ *ast.File, decl *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		if found != "" {
			return
		}
		waker := false
		shallow(body, func(n ast.Node) bool {
			waker = waker || wakes(n)
			return !waker
		})
		if waker && locksField(pass, decls, body, lockVar, 2) {
			found = "a function literal"
			if decl != nil {
				found = decl.Name.Name
			}
		}
	})
	return found
}

// locksField: body locks lockVar, or calls a package function that does (depth levels).
func locksField(pass *analysis.Pass, decls map[types.Object]*ast.FuncDecl, body ast.Node, lockVar *types.Var, depth int) bool {
	found := false
	shallow(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		if _, isLock := lockMethods[calleeName(pass.TypesInfo, call)]; isLock {
			if objOf(pass.TypesInfo, recvExpr(call)) == lockVar {
				found = true
				return false
			}
		}
		if depth > 0 {
			id := funIdent(call.Fun)
			if id != nil {
				if fd := decls[pass.TypesInfo.Uses[id]]; fd != nil && fd.Body != body {
					found = locksField(pass, decls, fd.Body, lockVar, depth-1)
				}
			}
		}
		return !found
	})
	return found
}

// knownUnbuffered: every make(chan) this package assigns to the channel's variable
// or field is unbuffered, and there is at least one.
func knownUnbuffered(pass *analysis.Pass, ch ast.Expr) bool {
	v := objOf(pass.TypesInfo, ch)
	if v == nil {
		return false
	}
	makes, unbuffered := 0, 0
	check := func(lhs, rhs ast.Expr) {
		if objOf(pass.TypesInfo, lhs) != v || !isMakeChan(pass, rhs) {
			return
		}
		makes++
		if isUnbufferedMake(pass, rhs) {
			unbuffered++
		}
	}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.AssignStmt:
				if len(x.Lhs) == len(x.Rhs) {
					for i := range x.Lhs {
						check(x.Lhs[i], x.Rhs[i])
					}
				}
			case *ast.ValueSpec:
				for i := range x.Names {
					if i < len(x.Values) {
						check(x.Names[i], x.Values[i])
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := x.Key.(*ast.Ident); ok {
					check(id, x.Value)
				}
			}
			return true
		})
	}
	return makes > 0 && makes == unbuffered
}

// blockingCallee: call is to a function of this package whose body always
// sleeps, makes a network call or sends on an unbuffered channel: a top-level statement of it, not one under a
// condition or in a loop, literal, go or defer (e.g. a flushLocked helper writing
// to a backend, a fetch standing in for an upstream). A sleep on some branch only
// (a retry helper's optional pause) may not happen for this caller: not reported.
// One level only: deeper chains are too often guarded by conditions we cannot see.
func blockingCallee(pass *analysis.Pass, call *ast.CallExpr) (blockingOp, bool) {
	id := funIdent(call.Fun)
	if id == nil {
		return blockingOp{}, false
	}
	fn, ok := pass.TypesInfo.Uses[id].(*types.Func)
	if !ok || fn.Pkg() != pass.Pkg {
		return blockingOp{}, false
	}
	decl := funcDeclOf(pass, fn)
	if decl == nil || decl.Body == nil {
		return blockingOp{}, false
	}
	for _, st := range decl.Body.List {
		// A send on a channel the package makes unbuffered, as a top-level
		// statement of the callee (a notify helper): it waits for a receiver
		// while the caller's lock is held.
		if send, ok := st.(*ast.SendStmt); ok && knownUnbuffered(pass, send.Chan) {
			what := fmt.Sprintf("call to %s, which sends on unbuffered %s (line %d),", fn.Name(), types.ExprString(send.Chan), posLine(pass.Fset, send.Pos()))
			return blockingOp{"send", what, call, nil}, true
		}
		es, ok := st.(*ast.ExprStmt)
		if !ok {
			continue
		}
		x, ok := es.X.(*ast.CallExpr)
		if !ok {
			continue
		}
		name := calleeName(pass.TypesInfo, x)
		label := blockingCalls[name]
		if label == "" || name == "(*sync.WaitGroup).Wait" {
			continue
		}
		kind := "net"
		if name == "time.Sleep" {
			kind = "sleep"
		}
		what := fmt.Sprintf("call to %s, which calls %s (line %d),", fn.Name(), label, posLine(pass.Fset, x.Pos()))
		return blockingOp{kind, what, call, nil}, true
	}
	return blockingOp{}, false
}

// funcDeclOf finds the declaration of fn among the package's files.
func funcDeclOf(pass *analysis.Pass, fn *types.Func) *ast.FuncDecl {
	for _, f := range pass.Files {
		if f.Pos() > fn.Pos() || fn.Pos() > f.End() {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && pass.TypesInfo.Defs[fd.Name] == fn {
				return fd
			}
		}
	}
	return nil
}

// relock reports, in statement t run while key is held, a call to a method on
// the same receiver whose body locks the same field again before any unlock of
// it: sync mutexes are not reentrant, so Lock after Lock deadlocks at once, and
// RLock after RLock deadlocks as soon as a writer queues in between (sync.RWMutex
// forbids recursive read locking). Reported at the inner lock, where it blocks.
func relock(pass *analysis.Pass, t ast.Stmt, outer *ast.CallExpr) bool {
	var base, field string
	switch r := recvExpr(outer).(type) {
	case *ast.SelectorExpr:
		base, field = types.ExprString(r.X), "."+r.Sel.Name
	case *ast.Ident:
		// An embedded mutex (type T struct{ sync.Mutex }): t.Lock() locks t itself,
		// and a method of T that calls Lock on its receiver takes the same mutex.
		if !embedsMutex(pass.TypesInfo.TypeOf(r)) {
			return false
		}
		base = r.Name
	default:
		return false
	}
	reported := false
	shallow(t, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.CallExpr:
			m, ok := x.Fun.(*ast.SelectorExpr)
			if !ok || types.ExprString(m.X) != base {
				return true
			}
			fn, ok := pass.TypesInfo.Uses[m.Sel].(*types.Func)
			if !ok || fn.Pkg() != pass.Pkg {
				return true
			}
			decl := funcDeclOf(pass, fn)
			if decl == nil || decl.Body == nil || decl.Recv == nil || len(decl.Recv.List[0].Names) != 1 {
				return true
			}
			inner := decl.Recv.List[0].Names[0].Name + field
			if lk := firstLock(pass, decl.Body, inner); lk != nil {
				pass.Reportf(lk.Pos(), "%s locks %s again while its caller %s already holds it (locked at line %d, call at line %d): sync mutexes are not reentrant, so this deadlocks; take the lock in one place, or split out a helper that expects the lock held",
					fn.Name(), inner, enclosingName(pass, outer), posLine(pass.Fset, outer.Pos()), posLine(pass.Fset, x.Pos()))
				reported = true
			}
		}
		return !reported
	})
	return reported
}

// embedsMutex: t (or what it points to) is a struct with an embedded sync.Mutex or sync.RWMutex.
func embedsMutex(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := 0; i < st.NumFields(); i++ {
		f := st.Field(i)
		if f.Embedded() && (isTypeNamed(f.Type(), "sync", "Mutex") || isTypeNamed(f.Type(), "sync", "RWMutex")) {
			return true
		}
	}
	return false
}

// firstLock is the first Lock/RLock of key in body, if no unlock of key precedes
// it (a callee that releases the lock first is written to be called locked).
func firstLock(pass *analysis.Pass, body *ast.BlockStmt, key string) *ast.CallExpr {
	var lk *ast.CallExpr
	stop := false
	shallow(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.CallExpr:
			name := calleeName(pass.TypesInfo, x)
			if recvExpr(x) == nil || types.ExprString(recvExpr(x)) != key {
				return !stop
			}
			if _, isLock := lockMethods[name]; isLock {
				lk, stop = x, true
			} else if name == "(*sync.Mutex).Unlock" || name == "(*sync.RWMutex).Unlock" || name == "(*sync.RWMutex).RUnlock" {
				stop = true
			}
		}
		return !stop
	})
	return lk
}

// enclosingName names the function declaration containing n.
func enclosingName(pass *analysis.Pass, n ast.Node) string {
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= n.Pos() && n.End() <= fd.End() {
				return fd.Name.Name
			}
		}
	}
	return "the caller"
}
