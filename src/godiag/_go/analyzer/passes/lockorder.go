package passes

import (
	"go/ast"
	"go/token"
	"go/types"

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
}

type lockOrderPass struct {
	pass  *analysis.Pass
	decls map[*types.Func]*ast.FuncDecl
	memo  map[*types.Func]map[*types.Var]string
	edges map[[2]*types.Var][]lockEdge
}

func runLockOrder(pass *analysis.Pass) (any, error) {
	lp := &lockOrderPass{
		pass:  pass,
		decls: map[*types.Func]*ast.FuncDecl{},
		memo:  map[*types.Func]map[*types.Var]string{},
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
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok && n != ast.Node(body) {
				return false // visited as its own body
			}
			var list []ast.Stmt
			switch b := n.(type) {
			case *ast.BlockStmt:
				list = b.List
			case *ast.CaseClause:
				list = b.Body
			case *ast.CommClause:
				list = b.Body
			default:
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
		// Report once per pair, at the earlier site, naming the other.
		e, o := first(es), first(back)
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

func first(es []lockEdge) lockEdge {
	best := es[0]
	for _, e := range es[1:] {
		if e.at < best.at {
			best = e
		}
	}
	return best
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
			lp.heldIn(t, a, call.Pos(), key)
		}
	}
}

// heldIn records the locks statement t takes while a is held.
func (lp *lockOrderPass) heldIn(t ast.Stmt, a *types.Var, lockA token.Pos, nameA string) {
	shallow(t, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.CallExpr:
			if lp.isLockCall(x) {
				if b := lp.mutexOf(x); b != nil && b != a {
					lp.edge(a, b, lockEdge{at: x.Pos(), lockA: lockA, nameA: nameA, nameB: types.ExprString(recvExpr(x))})
				}
				return true
			}
			if fn := lp.callee(x); fn != nil {
				for b, nameB := range lp.locks(fn, lockOrderDepth, map[*types.Func]bool{}) {
					if b != a {
						lp.edge(a, b, lockEdge{at: x.Pos(), via: fn.Name(), lockA: lockA, nameA: nameA, nameB: nameB})
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
	var id *ast.Ident
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		id = fn
	case *ast.SelectorExpr:
		id = fn.Sel
	}
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
func (lp *lockOrderPass) locks(fn *types.Func, depth int, visiting map[*types.Func]bool) map[*types.Var]string {
	if m, ok := lp.memo[fn]; ok && depth == lockOrderDepth {
		return m
	}
	out := map[*types.Var]string{}
	if visiting[fn] || depth == 0 {
		return out
	}
	visiting[fn] = true
	defer delete(visiting, fn)
	shallow(lp.decls[fn].Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.CallExpr:
			if lp.isLockCall(x) {
				if v := lp.mutexOf(x); v != nil && (v.IsField() || !isLocal(v)) {
					out[v] = types.ExprString(recvExpr(x))
				}
				return true
			}
			if c := lp.callee(x); c != nil {
				for v, name := range lp.locks(c, depth-1, visiting) {
					if _, ok := out[v]; !ok {
						out[v] = name
					}
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
