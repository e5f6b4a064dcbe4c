package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// A goroutine that a program starts a fixed number of times while it starts up (a
// worker pool, a forwarder, an audit writer fed by handlers) lives as long as the
// process by design: that its loop never ends is not a leak. What leaks is a
// goroutine started again and again (per request, per connection, per call of a
// library's constructor), so only package main is judged this way: a library cannot
// know how often its callers run its code.

// maxStartDepth bounds how far callers are followed up to main: start-up code is a
// few calls deep, and the walk must end on recursive code.
const maxStartDepth = 8

// startedOnce reports whether the code at n runs in a goroutine that package main
// starts only from start-up code (see onceAt): a literal started by `go`, or a
// declared function every reference of which is a `go` statement there.
func startedOnce(pass *analysis.Pass, parents map[ast.Node]ast.Node, n ast.Node) bool {
	if pass.Pkg.Name() != "main" {
		return false
	}
	if enclosingFuncLit(parents, n, nil) != nil {
		g := enclosingGo(parents, n, nil)
		return g != nil && onceAt(pass, parents, g, 0)
	}
	fd := enclosingFuncDecl(parents, n)
	if fd == nil {
		return false
	}
	fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func)
	if !ok {
		return false
	}
	calls := callsOf(pass, parents, fn)
	if calls == nil {
		return false
	}
	for _, call := range calls {
		g, isGo := parents[call].(*ast.GoStmt)
		if !isGo || !onceAt(pass, parents, g, 0) {
			return false
		}
	}
	return true
}

// onceAt reports whether the statement at n runs a bounded number of times per
// process: it is in main.main or an init function, or in a function whose every
// reference is a direct call at such a place; never inside a function literal (a
// handler, a callback: run as often as its caller likes) nor a loop that is not
// counted (`for {}`, `for cond {}`, a range over a channel: an accept loop).
func onceAt(pass *analysis.Pass, parents map[ast.Node]ast.Node, n ast.Node, depth int) bool {
	if depth > maxStartDepth {
		return false
	}
	for cur := parents[n]; cur != nil; cur = parents[cur] {
		switch x := cur.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ForStmt:
			if x.Init == nil || x.Cond == nil || x.Post == nil {
				return false
			}
		case *ast.RangeStmt:
			if _, ch := pass.TypesInfo.TypeOf(x.X).Underlying().(*types.Chan); ch {
				return false
			}
		case *ast.FuncDecl:
			if x.Recv == nil && (x.Name.Name == "main" || x.Name.Name == "init") {
				return true
			}
			fn, ok := pass.TypesInfo.Defs[x.Name].(*types.Func)
			if !ok {
				return false
			}
			calls := callsOf(pass, parents, fn)
			for _, call := range calls {
				if !onceAt(pass, parents, call, depth+1) {
					return false
				}
			}
			return calls != nil
		}
	}
	return false
}

// callsOf lists the calls of fn in the package; nil when fn is never called or is
// used any other way (a method value handed to a router, a function stored).
func callsOf(pass *analysis.Pass, parents map[ast.Node]ast.Node, fn *types.Func) []*ast.CallExpr {
	var out []*ast.CallExpr
	for id, obj := range pass.TypesInfo.Uses {
		f, ok := obj.(*types.Func)
		if !ok || f.Origin() != fn {
			continue
		}
		var fun ast.Node = id
		if sel, isSel := parents[id].(*ast.SelectorExpr); isSel && sel.Sel == id {
			fun = sel
		}
		call, isCall := parents[fun].(*ast.CallExpr)
		if !isCall || call.Fun != fun {
			return nil
		}
		out = append(out, call)
	}
	return out
}

func enclosingFuncDecl(parents map[ast.Node]ast.Node, n ast.Node) *ast.FuncDecl {
	for cur := parents[n]; cur != nil; cur = parents[cur] {
		if fd, ok := cur.(*ast.FuncDecl); ok {
			return fd
		}
	}
	return nil
}
