package passes

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// LockNotReleased flags a Lock/RLock that some path out of the function (a
// return, the end of the body) or out of the loop iteration that took it (a
// continue, or a break with no unlock after the loop) leaves held, in a
// function that unlocks it on its other paths and does not defer the unlock.
// The next Lock of that mutex then waits forever.
var LockNotReleased = &analysis.Analyzer{
	Name: "lock_not_released",
	Doc:  "a path out of the function or loop iteration leaves a mutex locked that the other paths unlock",
	Run:  func(pass *analysis.Pass) (any, error) { runLockFlow(pass, "leak"); return nil, nil },
}

// DoubleLock flags a Lock of a mutex the same function already holds on that
// path (Lock after Lock, RLock after Lock, Lock after RLock): sync mutexes are
// not reentrant, so the goroutine deadlocks on itself.
var DoubleLock = &analysis.Analyzer{
	Name: "double_lock",
	Doc:  "a mutex locked again by the function that already holds it",
	Run:  func(pass *analysis.Pass) (any, error) { runLockFlow(pass, "double"); return nil, nil },
}

func runLockFlow(pass *analysis.Pass, want string) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		seen := map[string]bool{}
		shallow(body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if _, isLock := lockMethods[calleeName(pass.TypesInfo, call)]; isLock && recvExpr(call) != nil {
				key := types.ExprString(recvExpr(call))
				if !seen[key] {
					seen[key] = true
					w := &lockWalker{pass: pass, key: key, body: body, want: want}
					w.run()
				}
			}
			return true
		})
	})
}

// lockState is what the walk knows about the mutex at one point of one path.
type lockState struct {
	held    bool
	unknown bool          // a statement we cannot follow: stop reporting on this path
	lock    *ast.CallExpr // the Lock/RLock call that took it
	read    bool          // taken with RLock
}

// lockWalker follows one mutex (by expression, e.g. "s.mu") through the
// structured statements of one function body, path-insensitively merged at
// joins: when two paths disagree the state becomes unknown and nothing more is
// reported on it (precision over recall).
type lockWalker struct {
	pass     *analysis.Pass
	key      string
	body     *ast.BlockStmt
	want     string // "leak" or "double"
	unlocks  bool   // the function unlocks key somewhere (not deferred)
	loops    []ast.Stmt
	entry    []bool // per entry of loops: the mutex was held when it started
	reported bool
}

func (w *lockWalker) run() {
	// A deferred unlock (directly, in a deferred literal, or through an unlock
	// closure) releases it on every path: nothing to say about leaks, and the
	// Lock-after-Lock cases it allows are rare enough to leave alone.
	giveUp := false
	ast.Inspect(w.body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.DeferStmt:
			if strings.Contains(types.ExprString(x.Call), w.key) || mentionsKeyDeep(x, w.key) {
				giveUp = true
			}
		case *ast.FuncLit:
			if mentionsKeyDeep(x, w.key) {
				giveUp = true // an unlock closure, or the lock handed to other code
			}
			return false
		case *ast.CallExpr:
			if w.isUnlock(x) {
				w.unlocks = true
			}
		}
		return !giveUp
	})
	if giveUp {
		return
	}
	// A function whose first operation on the mutex is an unlock is called with
	// it held (removeDeviceAndWait: Unlock, wait, Lock again) and hands it back
	// locked on purpose.
	var first *ast.CallExpr
	shallow(w.body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && first == nil {
			if isLk, _ := w.isLock(call); isLk || w.isUnlock(call) {
				first = call
			}
		}
		return first == nil
	})
	if first != nil && w.isUnlock(first) {
		return
	}
	st, term := w.block(w.body.List, lockState{})
	if !term && st.held && !st.unknown && w.unlocks {
		w.leak(w.body.Rbrace, st, "the function ends")
	}
}

// mentionsKeyDeep: some selector call inside n (function literals included) has key as receiver.
func mentionsKeyDeep(n ast.Node, key string) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if call, ok := m.(*ast.CallExpr); ok {
			if r := recvExpr(call); r != nil && types.ExprString(r) == key {
				found = true
			}
		}
		return !found
	})
	return found
}

// refersTo: some expression inside n (literals included) is key itself (the
// mutex, or a method value of it such as mu.Unlock, handed on).
func refersTo(n ast.Node, key string) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if e, ok := m.(ast.Expr); ok && !found {
			if _, isIdent := e.(*ast.Ident); (isIdent || isSelector(e)) && types.ExprString(e) == key {
				found = true
			}
		}
		return !found
	})
	return found
}

func isSelector(e ast.Expr) bool { _, ok := e.(*ast.SelectorExpr); return ok }

func (w *lockWalker) isLock(call *ast.CallExpr) (bool, bool) {
	name := calleeName(w.pass.TypesInfo, call)
	if _, ok := lockMethods[name]; !ok || recvExpr(call) == nil || types.ExprString(recvExpr(call)) != w.key {
		return false, false
	}
	return true, strings.HasSuffix(name, "RLock")
}

func (w *lockWalker) isUnlock(call *ast.CallExpr) bool {
	name := calleeName(w.pass.TypesInfo, call)
	if name != "(*sync.Mutex).Unlock" && name != "(*sync.RWMutex).Unlock" && name != "(*sync.RWMutex).RUnlock" {
		return false
	}
	return recvExpr(call) != nil && types.ExprString(recvExpr(call)) == w.key
}

// block walks a statement list; term reports that no path falls off its end.
func (w *lockWalker) block(list []ast.Stmt, st lockState) (lockState, bool) {
	for _, s := range list {
		if st.unknown {
			return st, false
		}
		var term bool
		st, term = w.stmt(s, st)
		if term {
			return st, true
		}
	}
	return st, false
}

func (w *lockWalker) stmt(s ast.Stmt, st lockState) (lockState, bool) {
	switch x := s.(type) {
	case *ast.ExprStmt:
		if call, ok := x.X.(*ast.CallExpr); ok {
			if isLk, read := w.isLock(call); isLk {
				if st.held {
					// RLock after RLock is only a deadlock when a writer queues in between.
					if !(st.read && read) {
						w.double(call, st)
					}
					return lockState{unknown: true}, false
				}
				return lockState{held: true, lock: call, read: read}, false
			}
			if w.isUnlock(call) {
				return lockState{}, false
			}
			if exits(w.pass, call) {
				return st, true
			}
		}
		return w.plain(s, st), false
	case *ast.ReturnStmt:
		// `return c.updateAndUnlock()` hands the lock to a helper that releases it.
		if st.held && !st.unknown && !refersTo(x, w.key) && w.unlocks && !w.plain(x, st).unknown {
			w.leak(x.Pos(), st, "it returns")
		}
		return st, true
	case *ast.BranchStmt:
		return w.branch(x, st)
	case *ast.BlockStmt:
		return w.block(x.List, st)
	case *ast.LabeledStmt:
		return w.stmt(x.Stmt, st)
	case *ast.IfStmt:
		if x.Init != nil {
			st = w.plain(x.Init, st)
		}
		st = w.plain(&ast.ExprStmt{X: x.Cond}, st)
		s1, t1 := w.block(x.Body.List, st)
		s2, t2 := st, false
		if x.Else != nil {
			s2, t2 = w.stmt(x.Else, st)
		}
		return merge([]lockState{s1, s2}, []bool{t1, t2})
	case *ast.ForStmt, *ast.RangeStmt:
		var body *ast.BlockStmt
		if f, ok := x.(*ast.ForStmt); ok {
			if f.Init != nil {
				st = w.plain(f.Init, st)
			}
			body = f.Body
		} else {
			body = x.(*ast.RangeStmt).Body
		}
		w.loops, w.entry = append(w.loops, x), append(w.entry, st.held)
		out, term := w.block(body.List, st)
		w.loops, w.entry = w.loops[:len(w.loops)-1], w.entry[:len(w.entry)-1]
		if !term && (out.held != st.held || out.unknown) {
			return lockState{unknown: true}, false // the loop changes the state: unknown after it
		}
		if f, ok := x.(*ast.ForStmt); ok && f.Cond == nil && !w.breaksOut(f) {
			return st, true // for {} without a break: nothing runs after it
		}
		return st, false
	case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
		var clauses []ast.Stmt
		hasDefault := false
		switch sw := x.(type) {
		case *ast.SwitchStmt:
			if sw.Init != nil {
				st = w.plain(sw.Init, st)
			}
			clauses = sw.Body.List
		case *ast.TypeSwitchStmt:
			clauses = sw.Body.List
		case *ast.SelectStmt:
			clauses = sw.Body.List
			hasDefault = true // a select always runs one of its clauses
		}
		var states []lockState
		var terms []bool
		w.loops, w.entry = append(w.loops, x), append(w.entry, st.held)
		for _, c := range clauses {
			var body []ast.Stmt
			switch cc := c.(type) {
			case *ast.CaseClause:
				body = cc.Body
				if cc.List == nil {
					hasDefault = true
				}
			case *ast.CommClause:
				body = cc.Body
			}
			s1, t1 := w.block(body, st)
			states, terms = append(states, s1), append(terms, t1)
		}
		w.loops, w.entry = w.loops[:len(w.loops)-1], w.entry[:len(w.entry)-1]
		if !hasDefault {
			states, terms = append(states, st), append(terms, false)
		}
		return merge(states, terms)
	case *ast.GoStmt, *ast.DeferStmt, *ast.EmptyStmt:
		return st, false
	}
	return w.plain(s, st), false
}

// plain handles a statement with no control flow of its own: a lock operation
// on key buried in an expression, or a call that may unlock it elsewhere
// (c.unlockAll()), makes the state unknown.
func (w *lockWalker) plain(s ast.Stmt, st lockState) lockState {
	unknown := false
	shallow(s, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if isLk, _ := w.isLock(call); isLk || w.isUnlock(call) {
				unknown = true
			}
			// Unlocking another mutex says nothing about this one; an unlock
			// helper of the package (c.unlockAll()) may release it.
			_, syncLock := lockMethods[calleeName(w.pass.TypesInfo, call)]
			isSyncUnlock := strings.HasPrefix(calleeName(w.pass.TypesInfo, call), "(*sync.")
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && !syncLock && !isSyncUnlock && strings.Contains(strings.ToLower(sel.Sel.Name), "unlock") {
				unknown = true
			}
			if id, ok := call.Fun.(*ast.Ident); ok && strings.Contains(strings.ToLower(id.Name), "unlock") {
				unknown = true
			}
		}
		return !unknown
	})
	if unknown {
		return lockState{unknown: true}
	}
	return st
}

// branch: break/continue leave the iteration that took the lock; goto is not followed.
func (w *lockWalker) branch(x *ast.BranchStmt, st lockState) (lockState, bool) {
	if x.Tok == token.GOTO || x.Tok == token.FALLTHROUGH {
		return lockState{unknown: true}, x.Tok == token.GOTO
	}
	target, heldAtEntry := w.target(x)
	if target == nil {
		return lockState{unknown: true}, true
	}
	switch target.(type) {
	case *ast.ForStmt, *ast.RangeStmt:
	default:
		// break out of a switch/select: the clause ends here; the walk of the
		// enclosing statement cannot tell, so stop following this mutex.
		return lockState{unknown: true}, false
	}
	// A loop entered with the lock held keeps it held from one iteration to the
	// next (re-locking after unlocked work): continue and break are its normal exits.
	if !st.held || st.unknown || heldAtEntry || !within(st.lock, target) || !w.unlocks {
		return st, true
	}
	if x.Tok == token.CONTINUE {
		w.leak(x.Pos(), st, "continue starts the next iteration")
		return st, true
	}
	// break: fine when the code after the loop releases it.
	after := false
	ast.Inspect(w.body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && call.Pos() > target.End() && w.isUnlock(call) {
			after = true
		}
		return !after
	})
	if !after {
		w.leak(x.Pos(), st, "break leaves the loop")
	}
	return st, true
}

// target is the statement a break/continue leaves (innermost, or by label).
func (w *lockWalker) target(x *ast.BranchStmt) (ast.Stmt, bool) {
	for i := len(w.loops) - 1; i >= 0; i-- {
		l := w.loops[i]
		if x.Label != nil {
			if ls, ok := w.parentLabel(l); ok && ls == x.Label.Name {
				return l, w.entry[i]
			}
			continue
		}
		if x.Tok == token.CONTINUE {
			switch l.(type) {
			case *ast.ForStmt, *ast.RangeStmt:
				return l, w.entry[i]
			}
			continue
		}
		return l, w.entry[i]
	}
	return nil, false
}

func (w *lockWalker) parentLabel(s ast.Stmt) (string, bool) {
	name, found := "", false
	ast.Inspect(w.body, func(n ast.Node) bool {
		if ls, ok := n.(*ast.LabeledStmt); ok && ls.Stmt == s {
			name, found = ls.Label.Name, true
		}
		return !found
	})
	return name, found
}

// breaksOut: some break in loop's body leaves loop (unlabelled and not inside
// an inner for/switch/select, or labelled with loop's label).
func (w *lockWalker) breaksOut(loop *ast.ForStmt) bool {
	label, _ := w.parentLabel(loop)
	found := false
	var walk func(n ast.Node, inner bool)
	walk = func(n ast.Node, inner bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if found || m == nil {
				return false
			}
			switch y := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				if m != ast.Node(loop) && m != n {
					walk(m, true)
					return false
				}
			case *ast.BranchStmt:
				if y.Tok == token.BREAK && ((y.Label == nil && !inner) || (y.Label != nil && y.Label.Name == label)) {
					found = true
				}
				if y.Tok == token.GOTO {
					found = true // cannot tell where it goes
				}
			}
			return true
		})
	}
	walk(loop.Body, false)
	return found
}

// merge joins the states of the paths that fall through; disagreement is unknown.
func merge(states []lockState, terms []bool) (lockState, bool) {
	var out *lockState
	for i, s := range states {
		if terms[i] {
			continue
		}
		if out == nil {
			c := s
			out = &c
			continue
		}
		if s.unknown || out.unknown || s.held != out.held {
			return lockState{unknown: true}, false
		}
	}
	if out == nil {
		return lockState{}, true
	}
	return *out, false
}

// exits: a call after which the goroutine does not continue (panic, os.Exit, log.Fatal*, t.Fatal*).
func exits(pass *analysis.Pass, call *ast.CallExpr) bool {
	name := calleeName(pass.TypesInfo, call)
	switch {
	case name == "panic", name == "os.Exit", strings.HasPrefix(name, "log.Fatal"), strings.HasPrefix(name, "log.Panic"),
		name == "runtime.Goexit", strings.HasSuffix(name, ").Fatal"), strings.HasSuffix(name, ").Fatalf"),
		strings.HasSuffix(name, ").FailNow"), strings.HasSuffix(name, ").SkipNow"):
		return true
	}
	return false
}

func (w *lockWalker) leak(at token.Pos, st lockState, how string) {
	if w.want != "leak" || w.reported {
		return
	}
	w.reported = true
	op := "Lock"
	un := "Unlock"
	if st.read {
		op, un = "RLock", "RUnlock"
	}
	w.pass.Reportf(at, "%s leaves %s locked (%s at line %d) while the other paths call %s.%s(): the next %s waits forever; unlock before leaving, or defer %s.%s() right after locking",
		how, w.key, op, posLine(w.pass.Fset, st.lock.Pos()), w.key, un, op, w.key, un)
}

func (w *lockWalker) double(call *ast.CallExpr, st lockState) {
	if w.want != "double" || w.reported {
		return
	}
	w.reported = true
	first := "Lock"
	if st.read {
		first = "RLock"
	}
	w.pass.Reportf(call.Pos(), "%s is locked again while this function already holds it (%s at line %d): sync mutexes are not reentrant, so the goroutine deadlocks on itself; unlock first, or drop the second lock",
		w.key, first, posLine(w.pass.Fset, st.lock.Pos()))
}
