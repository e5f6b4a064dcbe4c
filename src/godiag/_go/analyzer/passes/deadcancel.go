package passes

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// checkStoredCancel finds a watcher whose cancel function is kept but never
// called: `ctx, x.cancel = context.WithCancel(parent)` (or a local cancel whose
// only use is to be stored in a field), then `go w(...)` where w waits on
// ctx.Done() as a plain receive. If every call of that field lies in functions
// the program never reaches (a Close/Rollback nobody calls), or only in code
// that runs after the watcher's own wait ends (the watcher cancels itself once
// woken), nothing wakes the watcher but the parent context.
//
// Only in package main, where the whole program is in view: the roots are
// main, init, tests and package-level initializers; a method whose name some
// interface of the program or its imports declares is a root too (it may be
// called through that interface), and so is every exported method when the
// program uses reflect or templates.
func checkStoredCancel(pass *analysis.Pass) {
	if pass.Pkg.Name() != "main" {
		return
	}
	var g *callGraph
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		shallow(body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || !isWithCancel(pass, as) {
				return true
			}
			ctx := objOf(pass.TypesInfo, as.Lhs[0])
			field := cancelField(pass, body, as.Lhs[1])
			if ctx == nil || field == nil {
				return true
			}
			wait, waiter := watcherOf(pass, body, as, ctx)
			if wait == nil {
				return true
			}
			callers, ok := fieldCallers(pass, field)
			if !ok || len(callers) == 0 {
				return true
			}
			if g == nil {
				g = newCallGraph(pass)
			}
			if g.anyReached(callers, waiter, wait) {
				return true
			}
			names := make([]string, 0, len(callers))
			for _, c := range callers {
				names = append(names, c.Name())
			}
			pass.Reportf(wait.Pos(), "goroutine waits on %s.Done(), but its cancel (field %s) is only called from %s, which nothing in the program reaches before this wait ends: only the parent context's end wakes it; call cancel when the work ends (defer it in the function that starts the watcher, or from a Close that is called)",
				ctx.Name(), field.Name(), strings.Join(names, ", "))
			return true
		})
	})
}

// cancelField is the struct field the cancel result ends up in: the assignment
// stores it directly (ctx, x.cancel = ...), or it is a new local whose every use
// stores it in one field (T{cancel: cancel}, x.cancel = cancel).
func cancelField(pass *analysis.Pass, body *ast.BlockStmt, lhs ast.Expr) *types.Var {
	if v := objOf(pass.TypesInfo, lhs); v != nil && v.IsField() {
		return v
	}
	id, ok := lhs.(*ast.Ident)
	if !ok {
		return nil
	}
	local, ok := pass.TypesInfo.Defs[id].(*types.Var)
	if !ok || local == nil {
		return nil
	}
	parents := parentMap(body)
	var field *types.Var
	for _, u := range identUses(pass.TypesInfo, body, local) {
		var f *types.Var
		switch p := parents[u].(type) {
		case *ast.KeyValueExpr:
			if k, ok := p.Key.(*ast.Ident); ok && p.Value == u {
				f, _ = pass.TypesInfo.ObjectOf(k).(*types.Var)
			}
		case *ast.AssignStmt:
			if len(p.Lhs) == 1 && len(p.Rhs) == 1 && p.Rhs[0] == u {
				f = objOf(pass.TypesInfo, p.Lhs[0])
			}
		}
		if f == nil || !f.IsField() || (field != nil && f != field) {
			return nil
		}
		field = f
	}
	return field
}

// watcherOf finds, after the assignment, `go f(..., ctx, ...)` or `go x.m()` whose
// function (declared in this package and referenced nowhere else) starts with,
// or has as a top-level statement, the plain receive <-ctx.Done() on the
// parameter ctx is passed as, or on the field ctx is stored in; or `go func(){...}()`
// doing the same on ctx itself. It returns that receive and the function.
func watcherOf(pass *analysis.Pass, body *ast.BlockStmt, as *ast.AssignStmt, ctx *types.Var) (ast.Stmt, *types.Func) {
	stored := map[*types.Var]bool{} // fields ctx is stored in by this function
	parents := parentMap(body)
	for _, u := range identUses(pass.TypesInfo, body, ctx) {
		switch p := parents[u].(type) {
		case *ast.KeyValueExpr:
			if k, ok := p.Key.(*ast.Ident); ok && p.Value == u {
				if f, ok := pass.TypesInfo.ObjectOf(k).(*types.Var); ok && f.IsField() {
					stored[f] = true
				}
			}
		case *ast.AssignStmt:
			if len(p.Lhs) == 1 && len(p.Rhs) == 1 && p.Rhs[0] == u {
				if f := objOf(pass.TypesInfo, p.Lhs[0]); f != nil && f.IsField() {
					stored[f] = true
				}
			}
		}
	}
	var wait ast.Stmt
	var waiter *types.Func
	shallow(body, func(n ast.Node) bool {
		gs, ok := n.(*ast.GoStmt)
		if !ok || gs.Pos() < as.End() || wait != nil {
			return wait == nil
		}
		if lit, ok := gs.Call.Fun.(*ast.FuncLit); ok {
			wait = doneWait(pass, lit.Body, func(v *types.Var) bool { return v == ctx })
			return wait == nil
		}
		id := funIdent(gs.Call.Fun)
		if id == nil {
			return true
		}
		fn, ok := pass.TypesInfo.Uses[id].(*types.Func)
		if !ok || fn.Pkg() != pass.Pkg {
			return true
		}
		decl := funcDeclOf(pass, fn)
		if decl == nil || decl.Body == nil || refCount(pass, fn) != 1 {
			return true
		}
		sig := fn.Type().(*types.Signature)
		params := map[*types.Var]bool{}
		for i, a := range gs.Call.Args {
			if objOf(pass.TypesInfo, a) == ctx && i < sig.Params().Len() {
				params[sig.Params().At(i)] = true
			}
		}
		wait = doneWait(pass, decl.Body, func(v *types.Var) bool { return params[v] || stored[v] })
		if wait != nil {
			waiter = fn
		}
		return wait == nil
	})
	return wait, waiter
}

// doneWait is the first top-level statement of body that is `<-c.Done()` with c
// a variable or field accepted by isCtx.
func doneWait(pass *analysis.Pass, body *ast.BlockStmt, isCtx func(*types.Var) bool) ast.Stmt {
	for _, s := range body.List {
		es, ok := s.(*ast.ExprStmt)
		if !ok {
			continue
		}
		u, ok := es.X.(*ast.UnaryExpr)
		if !ok || u.Op != token.ARROW {
			continue
		}
		call, ok := u.X.(*ast.CallExpr)
		if !ok || calleeName(pass.TypesInfo, call) != "(context.Context).Done" {
			continue
		}
		if v := objOf(pass.TypesInfo, recvExpr(call)); v != nil && isCtx(v) {
			return s
		}
	}
	return nil
}

// refCount is how many identifiers of the package refer to fn.
func refCount(pass *analysis.Pass, fn *types.Func) int {
	n := 0
	for _, obj := range pass.TypesInfo.Uses {
		if f, ok := obj.(*types.Func); ok && f.Origin() == fn {
			n++
		}
	}
	return n
}

// fieldCallers lists the package functions whose bodies call the cancel field;
// false when the field is used any other way than being called or assigned.
func fieldCallers(pass *analysis.Pass, field *types.Var) ([]*types.Func, bool) {
	var out []*types.Func
	ok := true
	for _, f := range pass.Files {
		parents := parentMap(f)
		ast.Inspect(f, func(n ast.Node) bool {
			sel, isSel := n.(*ast.SelectorExpr)
			if !isSel || objOf(pass.TypesInfo, sel) != field {
				if id, isID := n.(*ast.Ident); isID && pass.TypesInfo.Uses[id] == field {
					if _, key := parents[id].(*ast.KeyValueExpr); !key {
						ok = false // a promoted or unqualified use we do not follow
					}
				}
				return true
			}
			switch p := parents[sel].(type) {
			case *ast.CallExpr:
				if p.Fun != sel {
					ok = false
					return false
				}
				fd := enclosingDecl(f, sel)
				if fd == nil {
					ok = false
					return false
				}
				if fn, isFn := pass.TypesInfo.Defs[fd.Name].(*types.Func); isFn {
					out = append(out, fn)
				}
			case *ast.AssignStmt:
				for _, l := range p.Lhs {
					if l == sel {
						return false
					}
				}
				ok = false
			default:
				ok = false
			}
			return false
		})
	}
	return out, ok
}

func enclosingDecl(f *ast.File, n ast.Node) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= n.Pos() && n.End() <= fd.End() {
			return fd
		}
	}
	return nil
}

// callGraph is which package functions refer to which (calls, method values and
// function values alike; literals count as part of the declaration holding them).
type callGraph struct {
	pass  *analysis.Pass
	decls map[*types.Func]*ast.FuncDecl
	roots []*types.Func
}

func newCallGraph(pass *analysis.Pass) *callGraph {
	g := &callGraph{pass: pass, decls: map[*types.Func]*ast.FuncDecl{}}
	ifaceNames := interfaceMethodNames(pass)
	reflective := false
	for _, imp := range pass.Pkg.Imports() {
		switch imp.Path() {
		case "reflect", "text/template", "html/template":
			reflective = true
		}
	}
	for _, f := range pass.Files {
		test := strings.HasSuffix(pass.Fset.Position(f.Pos()).Filename, "_test.go")
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				// Package-level initializers run at start.
				ast.Inspect(d, func(n ast.Node) bool {
					if id, ok := n.(*ast.Ident); ok {
						if fn, ok := pass.TypesInfo.Uses[id].(*types.Func); ok && fn.Pkg() == pass.Pkg {
							g.roots = append(g.roots, fn.Origin())
						}
					}
					return true
				})
				continue
			}
			fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			g.decls[fn] = fd
			name := fd.Name.Name
			root := fd.Recv == nil && (name == "main" || name == "init")
			root = root || (test && fd.Recv == nil && (strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Benchmark") ||
				strings.HasPrefix(name, "Fuzz") || strings.HasPrefix(name, "Example")))
			root = root || (fd.Recv != nil && (ifaceNames[name] || (reflective && fd.Name.IsExported())))
			if root {
				g.roots = append(g.roots, fn)
			}
		}
	}
	return g
}

// anyReached: some function of targets is reachable from the roots. References
// in waiter's body after its wait statement are not followed: that code runs
// only once the wait has ended.
func (g *callGraph) anyReached(targets []*types.Func, waiter *types.Func, wait ast.Stmt) bool {
	want := map[*types.Func]bool{}
	for _, t := range targets {
		want[t] = true
	}
	seen := map[*types.Func]bool{}
	queue := append([]*types.Func(nil), g.roots...)
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		if seen[fn] {
			continue
		}
		seen[fn] = true
		if want[fn] {
			return true
		}
		decl := g.decls[fn]
		if decl == nil || decl.Body == nil {
			continue
		}
		ast.Inspect(decl.Body, func(n ast.Node) bool {
			if fn == waiter && wait != nil && n != nil && n.Pos() > wait.End() {
				return false
			}
			if id, ok := n.(*ast.Ident); ok {
				if callee, ok := g.pass.TypesInfo.Uses[id].(*types.Func); ok && callee.Pkg() == g.pass.Pkg {
					queue = append(queue, callee.Origin())
				}
			}
			return true
		})
	}
	return false
}

// interfaceMethodNames: the method names of every interface type pkg declares
// (at package level or inside functions), and the exported ones of the
// interfaces its imports declare or take as parameters, transitively (plus
// error's Error). A method of the program with such a name may be called
// through the interface.
func interfaceMethodNames(pass *analysis.Pass) map[string]bool {
	names := map[string]bool{"Error": true}
	add := func(t types.Type, exportedOnly bool) {
		if it, ok := t.Underlying().(*types.Interface); ok {
			for i := 0; i < it.NumMethods(); i++ {
				if m := it.Method(i); !exportedOnly || m.Exported() {
					names[m.Name()] = true
				}
			}
		}
	}
	for _, tv := range pass.TypesInfo.Types {
		if tv.Type != nil {
			add(tv.Type, false)
		}
	}
	for _, obj := range pass.TypesInfo.Defs {
		if tn, ok := obj.(*types.TypeName); ok {
			add(tn.Type(), false)
		}
	}
	seen := map[*types.Package]bool{pass.Pkg: true}
	var visit func(p *types.Package)
	visit = func(p *types.Package) {
		if seen[p] {
			return
		}
		seen[p] = true
		scope := p.Scope()
		for _, n := range scope.Names() {
			switch obj := scope.Lookup(n).(type) {
			case *types.TypeName:
				add(obj.Type(), true)
			case *types.Func:
				sig := obj.Type().(*types.Signature)
				for i := 0; i < sig.Params().Len(); i++ {
					add(sig.Params().At(i).Type(), true)
				}
			}
		}
		for _, imp := range p.Imports() {
			visit(imp)
		}
	}
	for _, imp := range pass.Pkg.Imports() {
		visit(imp)
	}
	return names
}
