// Package passes holds godiag's leak analyzers. They favour precision: each one
// gives up (reports nothing) as soon as a value escapes where it cannot follow it.
package passes

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// All is the suite, in the order the ids are documented.
var All = []*analysis.Analyzer{
	GoexitMisuse,
	AbandonedSender,
	UnclosedRange,
	LostCancelWatcher,
	WaitGroupMissingDone,
	LockHeldBlocking,
	LockNotReleased,
	DoubleLock,
	LockOrder,
	ReceiveNeverSent,
	SendNeverReceived,
	CondNeverSignalled,
	UnclosedResponseBody,
	TransportPerRequest,
	TimerLeak,
}

// funIdent is the identifier a call's function expression names: f in f(...), M in
// x.M(...); nil for a function value computed at run time (a literal, an index, a call).
func funIdent(fun ast.Expr) *ast.Ident {
	switch fn := astutil.Unparen(fun).(type) {
	case *ast.Ident:
		return fn
	case *ast.SelectorExpr:
		return fn.Sel
	}
	return nil
}

// calleeName is the full name of the function or method a call invokes
// ("time.Tick", "(*sync.Mutex).Lock"), or "" for dynamic calls.
func calleeName(info *types.Info, call *ast.CallExpr) string {
	id := funIdent(call.Fun)
	if id == nil {
		return ""
	}
	if f, ok := info.Uses[id].(*types.Func); ok {
		return f.FullName()
	}
	if b, ok := info.Uses[id].(*types.Builtin); ok {
		return b.Name()
	}
	return ""
}

// recvExpr is X in a method call X.M(...).
func recvExpr(call *ast.CallExpr) ast.Expr {
	if sel, ok := astutil.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		return sel.X
	}
	return nil
}

// objOf is the variable an identifier or field selector denotes.
func objOf(info *types.Info, e ast.Expr) *types.Var {
	switch x := astutil.Unparen(e).(type) {
	case *ast.Ident:
		v, _ := info.ObjectOf(x).(*types.Var)
		return v
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[x]; ok && sel.Kind() == types.FieldVal {
			v, _ := sel.Obj().(*types.Var)
			return v
		}
		v, _ := info.ObjectOf(x.Sel).(*types.Var)
		return v
	case *ast.StarExpr:
		return objOf(info, x.X)
	}
	return nil
}

// isLocal reports whether v is a variable declared inside a function.
func isLocal(v *types.Var) bool {
	return v != nil && !v.IsField() && v.Parent() != nil && v.Pkg() != nil &&
		v.Parent() != v.Pkg().Scope() && v.Parent() != types.Universe
}

// funcs calls fn for every function body of the package: declarations and literals.
func funcs(pass *analysis.Pass, fn func(file *ast.File, decl *ast.FuncDecl, typ *ast.FuncType, body *ast.BlockStmt)) {
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncDecl:
				if x.Body != nil {
					fn(f, x, x.Type, x.Body)
				}
			case *ast.FuncLit:
				fn(f, nil, x.Type, x.Body)
			}
			return true
		})
	}
}

// shallow walks n without entering function literals (their code runs elsewhere).
func shallow(n ast.Node, fn func(ast.Node) bool) {
	ast.Inspect(n, func(m ast.Node) bool {
		if m == nil {
			return false
		}
		if _, ok := m.(*ast.FuncLit); ok && m != n {
			return false
		}
		return fn(m)
	})
}

// parentMap records each node's parent within root.
func parentMap(root ast.Node) map[ast.Node]ast.Node {
	parents := map[ast.Node]ast.Node{}
	var stack []ast.Node
	ast.Inspect(root, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if len(stack) > 0 {
			parents[n] = stack[len(stack)-1]
		}
		stack = append(stack, n)
		return true
	})
	return parents
}

// identUses lists the identifiers in root that refer to v.
func identUses(info *types.Info, root ast.Node, v types.Object) []*ast.Ident {
	var out []*ast.Ident
	ast.Inspect(root, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
			out = append(out, id)
		}
		return true
	})
	return out
}

// stmtList is the statement list a node holds directly: a block's, or a case or select
// clause's body; false for any other node.
func stmtList(n ast.Node) ([]ast.Stmt, bool) {
	switch b := n.(type) {
	case *ast.BlockStmt:
		return b.List, true
	case *ast.CaseClause:
		return b.Body, true
	case *ast.CommClause:
		return b.Body, true
	}
	return nil, false
}

// precededBy reports whether, walking from n up to stop, some statement that runs
// before n in an enclosing block satisfies pred.
func precededBy(parents map[ast.Node]ast.Node, n, stop ast.Node, pred func(ast.Stmt) bool) bool {
	cur := n
	for cur != nil && cur != stop {
		parent := parents[cur]
		list, _ := stmtList(parent)
		for _, s := range list {
			if s == cur {
				break
			}
			if pred(s) {
				return true
			}
		}
		cur = parent
	}
	return false
}

// fileVersion is the Go version governing file ("go1.22"), or "" when unknown.
func fileVersion(info *types.Info, file *ast.File) string {
	if info.FileVersions == nil {
		return ""
	}
	return info.FileVersions[file]
}

// minorOf parses "go1.22.3" into 22; -1 when unknown.
func minorOf(v string) int {
	if len(v) < 5 || v[:4] != "go1." {
		return -1
	}
	s := v[4:]
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			s = s[:i]
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func isTypeNamed(t types.Type, pkg, name string) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	return n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

func posLine(fset *token.FileSet, p token.Pos) int { return fset.Position(p).Line }
