package passes

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// LockOrder flags two mutexes taken in opposite orders: somewhere A is held
// while B is locked (directly or in a function of the package called there, up
// to lockOrderDepth calls deep), elsewhere B is held while A is locked. Two
// goroutines taking the two paths at once wait for each other forever (AB-BA).
//
// Mutexes are told apart by the struct field (or variable) that holds them, not
// by instance: a.mu and b.mu of one type are the same mutex here. A field
// locked again under itself through a call (a parent locking a child of the same
// type) is therefore left alone; only distinct fields form an order.
var LockOrder = &analysis.Analyzer{
	Name: "lock_order_inversion",
	Doc:  "two mutexes locked in opposite orders on two paths (AB-BA deadlock)",
	Run:  runLockOrder,
}

const lockOrderDepth = 4

type lockEdge struct {
	at           token.Pos // where B is taken (the lock, or the call that leads to it)
	via          string    // "" or the function called that takes B
	lockA        token.Pos
	nameA, nameB string // as written at the lock calls
	readA, readB bool   // A is held, B taken, with RLock
}

// taken is what a function's summary knows about one mutex it may lock.
type taken struct {
	name     string
	read     bool                // only ever taken with RLock
	releases map[*types.Var]bool // mutexes the call chain unlocks first (called with them held)
}

type lockOrderPass struct {
	pass  *analysis.Pass
	decls map[*types.Func]*ast.FuncDecl
	memo  map[*types.Func]map[*types.Var]taken
	edges map[[2]*types.Var][]lockEdge
	// written: mutexes the package write-locks somewhere (Lock, not RLock).
	written map[*types.Var]bool
}

func runLockOrder(pass *analysis.Pass) (any, error) {
	lp := &lockOrderPass{
		pass:  pass,
		decls: map[*types.Func]*ast.FuncDecl{},
		memo:  map[*types.Func]map[*types.Var]taken{},
		edges: map[[2]*types.Var][]lockEdge{},
	}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
					lp.decls[fn] = fd
				}
			}
		}
	}
	lp.written = map[*types.Var]bool{}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && lp.isLockCall(call) && !isRLock(pass, call) {
				if v := lp.mutexOf(call); v != nil {
					lp.written[v] = true
				}
			}
			return true
		})
	}
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok && n != ast.Node(body) {
				return false // visited as its own body
			}
			list, ok := stmtList(n)
			if !ok {
				return true
			}
			lp.scan(list)
			return true
		})
	})
	reported := map[[2]*types.Var]bool{}
	for pair, es := range lp.edges {
		rev := [2]*types.Var{pair[1], pair[0]}
		back, ok := lp.edges[rev]
		if !ok || reported[pair] || reported[rev] {
			continue
		}
		// Two readers do not exclude each other, unless a writer queues between
		// them (sync.RWMutex then blocks new readers): a mutex read-locked on both
		// sides and never write-locked in the package is no part of a cycle.
		// Report once per pair, at the earlier site.
		var e, o lockEdge
		found := false
		for _, x := range es {
			for _, y := range back {
				if (x.readA && y.readB && !lp.written[pair[0]]) || (x.readB && y.readA && !lp.written[pair[1]]) {
					continue
				}
				if !found || x.at < e.at || (x.at == e.at && y.at < o.at) {
					e, o, found = x, y, true
				}
			}
		}
		if !found {
			continue
		}
		if o.at < e.at {
			e, o = o, e
		}
		reported[pair] = true
		pass.Reportf(e.at, "%s is locked while %s is held (line %d%s), but line %d locks %s while %s is held (line %d%s): two goroutines on these paths deadlock (AB-BA); take the two locks in one order everywhere",
			e.nameB, e.nameA, posLine(pass.Fset, e.lockA), viaText(e.via),
			posLine(pass.Fset, o.at), o.nameB, o.nameA, posLine(pass.Fset, o.lockA), viaText(o.via))
	}
	return nil, nil
}

func viaText(via string) string {
	if via == "" {
		return ""
	}
	return ", through " + via
}

// mutexOf identifies the mutex a Lock/RLock/Unlock call works on: the field or
// variable holding it, or for a promoted method (type T struct{ sync.Mutex })
// the embedded field.
func (lp *lockOrderPass) mutexOf(call *ast.CallExpr) *types.Var {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	if s, ok := lp.pass.TypesInfo.Selections[sel]; ok && len(s.Index()) > 1 {
		t := s.Recv()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if st, ok := t.Underlying().(*types.Struct); ok && s.Index()[0] < st.NumFields() {
			return st.Field(s.Index()[0])
		}
		return nil
	}
	return objOf(lp.pass.TypesInfo, sel.X)
}

func (lp *lockOrderPass) isLockCall(call *ast.CallExpr) bool {
	_, ok := lockMethods[calleeName(lp.pass.TypesInfo, call)]
	return ok
}

// scan finds each Lock in one statement list and the statements run while it is
// held: up to the unlock, or the list's end after a deferred unlock.
func (lp *lockOrderPass) scan(list []ast.Stmt) {
	for i, s := range list {
		key, unlock := lockCall(lp.pass, s)
		if key == "" {
			continue
		}
		call := s.(*ast.ExprStmt).X.(*ast.CallExpr)
		a := lp.mutexOf(call)
		if a == nil {
			continue
		}
		for _, t := range list[i+1:] {
			if d, ok := t.(*ast.DeferStmt); ok && mentionsUnlock(d, key, unlock) {
				continue
			}
			if mentionsUnlock(t, key, unlock) {
				break
			}
			lp.heldIn(t, a, call.Pos(), key, unlock == "RUnlock")
		}
	}
}

// heldIn records the locks statement t takes while a is held.
func (lp *lockOrderPass) heldIn(t ast.Stmt, a *types.Var, lockA token.Pos, nameA string, readA bool) {
	shallow(t, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.CallExpr:
			if lp.isLockCall(x) {
				if b := lp.mutexOf(x); b != nil && b != a {
					lp.edge(a, b, lockEdge{at: x.Pos(), lockA: lockA, nameA: nameA, nameB: types.ExprString(recvExpr(x)), readA: readA, readB: isRLock(lp.pass, x)})
				}
				return true
			}
			if fn := lp.callee(x); fn != nil {
				for b, tk := range lp.locks(fn, lockOrderDepth, map[*types.Func]bool{}) {
					// A callee that unlocks a first (written to be called
					// locked, e.g. applyNewSID) takes b after releasing a.
					if b != a && !tk.releases[a] {
						lp.edge(a, b, lockEdge{at: x.Pos(), via: fn.Name(), lockA: lockA, nameA: nameA, nameB: tk.name, readA: readA, readB: tk.read})
					}
				}
			}
		}
		return true
	})
}

func (lp *lockOrderPass) edge(a, b *types.Var, e lockEdge) {
	k := [2]*types.Var{a, b}
	lp.edges[k] = append(lp.edges[k], e)
}

// callee is the package function or method a call statically invokes.
func (lp *lockOrderPass) callee(call *ast.CallExpr) *types.Func {
	id := funIdent(call.Fun)
	if id == nil {
		return nil
	}
	fn, _ := lp.pass.TypesInfo.Uses[id].(*types.Func)
	if fn == nil || lp.decls[fn] == nil {
		return nil
	}
	return fn
}

// locks is the set of mutexes fn may lock, itself or through the functions it
// calls (depth levels), outside go statements, defers and literals.
func (lp *lockOrderPass) locks(fn *types.Func, depth int, visiting map[*types.Func]bool) map[*types.Var]taken {
	if m, ok := lp.memo[fn]; ok && depth == lockOrderDepth {
		return m
	}
	out := map[*types.Var]taken{}
	if visiting[fn] || depth == 0 {
		return out
	}
	visiting[fn] = true
	defer delete(visiting, fn)
	// Mutexes whose first operation here is an unlock: fn is called with them held.
	releases := map[*types.Var]bool{}
	seen := map[*types.Var]bool{}
	shallow(lp.decls[fn].Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			name := calleeName(lp.pass.TypesInfo, call)
			_, isLock := lockMethods[name]
			isUnlock := name == "(*sync.Mutex).Unlock" || name == "(*sync.RWMutex).Unlock" || name == "(*sync.RWMutex).RUnlock"
			if isLock || isUnlock {
				if v := lp.mutexOf(call); v != nil && !seen[v] {
					seen[v] = true
					releases[v] = isUnlock
				}
			}
		}
		return true
	})
	add := func(v *types.Var, t taken) {
		rel := map[*types.Var]bool{}
		for r, ok := range releases {
			if ok {
				rel[r] = true
			}
		}
		for r := range t.releases {
			rel[r] = true
		}
		t.releases = rel
		if old, ok := out[v]; ok {
			old.read = old.read && t.read
			for r := range old.releases {
				if !rel[r] {
					delete(old.releases, r) // released on every chain only
				}
			}
			out[v] = old
			return
		}
		out[v] = t
	}
	skip := map[*ast.BlockStmt]bool{}
	shallow(lp.decls[fn].Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.IfStmt:
			// `if atomic.AddInt32(&t.refs, -1) == 0 { t.mu.Lock() ... }`: the last
			// reference is being dropped, so no other goroutine can hold t (it
			// would hold a reference): that lock orders after nothing.
			if mentionsAtomic(lp.pass, x.Cond) {
				skip[x.Body] = true
			}
		case *ast.BlockStmt:
			if skip[x] {
				return false
			}
		case *ast.CallExpr:
			if lp.isLockCall(x) {
				if v := lp.mutexOf(x); v != nil && (v.IsField() || !isLocal(v)) {
					add(v, taken{name: types.ExprString(recvExpr(x)), read: isRLock(lp.pass, x)})
				}
				return true
			}
			if c := lp.callee(x); c != nil {
				for v, t := range lp.locks(c, depth-1, visiting) {
					add(v, t)
				}
			}
		}
		return true
	})
	if depth == lockOrderDepth {
		lp.memo[fn] = out
	}
	return out
}

// mentionsAtomic: e calls a sync/atomic function or method (a reference count).
func mentionsAtomic(pass *analysis.Pass, e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			name := calleeName(pass.TypesInfo, call)
			if strings.HasPrefix(name, "sync/atomic.") || strings.HasPrefix(name, "(*sync/atomic.") {
				found = true
			}
		}
		return !found
	})
	return found
}

func isRLock(pass *analysis.Pass, call *ast.CallExpr) bool {
	return calleeName(pass.TypesInfo, call) == "(*sync.RWMutex).RLock"
}
