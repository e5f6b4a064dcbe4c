package passes

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// ReceiveNeverSent flags a receive that can only block forever: the channel is
// made by this package (a local, an unexported field or variable) and nothing in
// the package sends on it or closes it. Every use of the channel is followed:
// its makes, receives, nil comparisons, len/cap, a getter returning it as
// receive-only (`func (s *S) Done() <-chan T { return s.done }`) whose calls are
// themselves only received from, and arguments to package functions whose
// parameter is only received from. Any other use (a send, close, an alias, a
// call into other code) means someone may wake it: no report.
var ReceiveNeverSent = &analysis.Analyzer{
	Name: "receive_never_sent",
	Doc:  "receive from a channel that nothing in the package sends on or closes",
	Run:  runOrphanRecv,
}

// SendNeverReceived is the mirror image: a send on a channel made by the package
// unbuffered (or with a capacity that is not a constant) that nothing in the
// package receives from (nor hands out as receive-only); the sender waits forever.
var SendNeverReceived = &analysis.Analyzer{
	Name: "send_never_received",
	Doc:  "send on an unbuffered channel that nothing in the package receives from",
	Run:  func(pass *analysis.Pass) (any, error) { return runOrphan(pass, true) },
}

func runOrphanRecv(pass *analysis.Pass) (any, error) { return runOrphan(pass, false) }

func runOrphan(pass *analysis.Pass, send bool) (any, error) {
	parents := map[ast.Node]ast.Node{}
	for _, f := range pass.Files {
		for k, v := range parentMap(f) {
			parents[k] = v
		}
	}
	decls := map[types.Object]*ast.FuncDecl{}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				decls[pass.TypesInfo.Defs[fd.Name]] = fd
			}
		}
	}
	o := &orphan{pass: pass, parents: parents, decls: decls, send: send}
	done := map[*types.Var]bool{}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			var lhs, rhs ast.Expr
			switch x := n.(type) {
			case *ast.AssignStmt:
				if len(x.Lhs) == 1 && len(x.Rhs) == 1 {
					lhs, rhs = x.Lhs[0], x.Rhs[0]
				}
			case *ast.KeyValueExpr:
				lhs, rhs = x.Key, x.Value
			case *ast.ValueSpec:
				if len(x.Names) == 1 && len(x.Values) == 1 {
					lhs, rhs = x.Names[0], x.Values[0]
				}
			}
			if lhs == nil || !isMakeChan(pass, rhs) {
				return true
			}
			v := objOf(pass.TypesInfo, lhs)
			if v == nil || done[v] || v.Pkg() != pass.Pkg || v.Exported() {
				return true
			}
			done[v] = true
			if ch, ok := v.Type().Underlying().(*types.Chan); !ok || ch.Dir() != types.SendRecv {
				return true
			}
			if !isLocal(v) && !v.IsField() && v.Parent() != pass.Pkg.Scope() {
				return true
			}
			if send && !mayBeUnbuffered(pass, rhs) {
				return true
			}
			o.hard = nil
			if !o.onlyReceived(v, 2) || len(o.hard) == 0 {
				return true
			}
			if send {
				pass.Reportf(o.hard[0].Pos(), "send on %s blocks forever: nothing in the package receives from %s (made unbuffered, or with a capacity that may be 0, at line %d); receive it, make it buffered, or drop the send", v.Name(), v.Name(), posLine(pass.Fset, rhs.Pos()))
			} else {
				pass.Reportf(o.hard[0].Pos(), "receive from %s blocks forever: nothing in the package sends on %s or closes it (made at line %d); close it when the work ends, or select on a context", v.Name(), v.Name(), posLine(pass.Fset, rhs.Pos()))
			}
			return true
		})
	}
	return nil, nil
}

type orphan struct {
	pass    *analysis.Pass
	parents map[ast.Node]ast.Node
	decls   map[types.Object]*ast.FuncDecl
	hard    []ast.Node // receives (sends) that wait on this channel alone
	send    bool       // looking for sends nobody receives, not receives nobody wakes
}

// onlyReceived: every use of v in the package is a make, a receive (a send, in
// send mode) or harmless.
func (o *orphan) onlyReceived(v *types.Var, depth int) bool {
	for _, f := range o.pass.Files {
		for _, id := range identUses(o.pass.TypesInfo, f, v) {
			if !o.receiveUse(o.exprOf(id), depth) {
				return false
			}
		}
	}
	return true
}

// exprOf is the whole expression denoting the channel at id (x.f for field f).
func (o *orphan) exprOf(id *ast.Ident) ast.Expr {
	if sel, ok := o.parents[id].(*ast.SelectorExpr); ok && sel.Sel == id {
		return sel
	}
	return id
}

func (o *orphan) receiveUse(e ast.Expr, depth int) bool {
	p := o.parents[e]
	for {
		pe, ok := p.(*ast.ParenExpr)
		if !ok {
			break
		}
		e, p = pe, o.parents[pe]
	}
	switch x := p.(type) {
	case *ast.AssignStmt:
		for i, l := range x.Lhs {
			if l == e && len(x.Rhs) == len(x.Lhs) && o.isMake(x.Rhs[i]) {
				return true
			}
		}
		return false
	case *ast.KeyValueExpr:
		return x.Key == e && o.isMake(x.Value)
	case *ast.ValueSpec:
		for i, n := range x.Names {
			if n == e && i < len(x.Values) {
				return o.isMake(x.Values[i])
			}
		}
		return false
	case *ast.SendStmt:
		if !o.send || x.Chan != e {
			return false
		}
		if !o.inMultiSelect(x) {
			o.hard = append(o.hard, x)
		}
		return true
	case *ast.UnaryExpr:
		if x.Op != token.ARROW || o.send {
			return false
		}
		if !o.inMultiSelect(x) {
			o.hard = append(o.hard, x)
		}
		return true
	case *ast.RangeStmt:
		if x.X == e && !o.send {
			o.hard = append(o.hard, x)
			return true
		}
		return false
	case *ast.BinaryExpr:
		return (x.Op == token.EQL || x.Op == token.NEQ) && (isNil(o.pass, x.X) || isNil(o.pass, x.Y))
	case *ast.CallExpr:
		if name := calleeName(o.pass.TypesInfo, x); name == "len" || name == "cap" || (o.send && name == "close") {
			return true // close wakes receivers, not senders
		}
		return depth > 0 && o.argOnlyReceived(x, e, depth)
	case *ast.ReturnStmt:
		return depth > 0 && o.getterOnlyReceived(x, depth)
	}
	return false
}

// isMake: a make of the channel; in send mode only one that may be unbuffered
// (a channel with a fixed buffer takes sends until it is full).
func (o *orphan) isMake(e ast.Expr) bool {
	if o.send {
		return mayBeUnbuffered(o.pass, e)
	}
	return isMakeChan(o.pass, e)
}

// mayBeUnbuffered: make(chan T), make(chan T, 0), or a capacity that is a
// parameter of the function (chanSize, which callers may set to 0).
func mayBeUnbuffered(pass *analysis.Pass, e ast.Expr) bool {
	if !isMakeChan(pass, e) {
		return false
	}
	call := astutil.Unparen(e).(*ast.CallExpr)
	if len(call.Args) < 2 {
		return true
	}
	tv := pass.TypesInfo.Types[call.Args[1]]
	if tv.Value != nil {
		return tv.Value.String() == "0"
	}
	// A parameter: the caller sizes it (newWatcher(0) in a test, say). A local
	// computed in place (make(chan T, total)) is taken as sized for its sends.
	id, ok := astutil.Unparen(call.Args[1]).(*ast.Ident)
	if !ok {
		return false
	}
	v, ok := pass.TypesInfo.Uses[id].(*types.Var)
	return ok && isParamOf(pass, v, call)
}

// isParamOf: v is a parameter of a function (declaration or literal) enclosing at.
func isParamOf(pass *analysis.Pass, v *types.Var, at ast.Node) bool {
	found := false
	for _, f := range pass.Files {
		if f.Pos() > at.Pos() || at.End() > f.End() {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if found || n == nil || n.Pos() > at.Pos() || n.End() < at.End() {
				return false
			}
			var ft *ast.FuncType
			switch x := n.(type) {
			case *ast.FuncDecl:
				ft = x.Type
			case *ast.FuncLit:
				ft = x.Type
			}
			if ft != nil && ft.Params != nil {
				for _, fld := range ft.Params.List {
					for _, name := range fld.Names {
						if pass.TypesInfo.Defs[name] == v {
							found = true
						}
					}
				}
			}
			return !found
		})
	}
	return found
}

func isNil(pass *analysis.Pass, e ast.Expr) bool {
	tv, ok := pass.TypesInfo.Types[e]
	return ok && tv.IsNil()
}

// inMultiSelect: the receive is the communication of a select case that has
// other cases (those may run instead: the dead case alone blocks nothing).
func (o *orphan) inMultiSelect(recv ast.Node) bool {
	sel := selectOf(o.parents, recv)
	return sel != nil && len(sel.Body.List) > 1
}

// argOnlyReceived: e is passed to a function of the package whose matching
// parameter is itself only received from.
func (o *orphan) argOnlyReceived(call *ast.CallExpr, e ast.Expr, depth int) bool {
	idx := -1
	for i, a := range call.Args {
		if a == e {
			idx = i
		}
	}
	if idx < 0 || call.Ellipsis.IsValid() {
		return false
	}
	fd := o.calledDecl(call)
	if fd == nil {
		return false
	}
	var params []*types.Var
	for _, fld := range fd.Type.Params.List {
		for _, n := range fld.Names {
			v, _ := o.pass.TypesInfo.Defs[n].(*types.Var)
			params = append(params, v)
		}
		if len(fld.Names) == 0 {
			params = append(params, nil)
		}
	}
	if idx >= len(params) || params[idx] == nil {
		return false
	}
	return o.onlyReceived(params[idx], depth-1)
}

func (o *orphan) calledDecl(call *ast.CallExpr) *ast.FuncDecl {
	id := funIdent(call.Fun)
	if id == nil {
		return nil
	}
	return o.decls[o.pass.TypesInfo.Uses[id]]
}

// getterOnlyReceived: `return ch` from a function whose only result is a
// receive-only channel, and every call of that function is only received from.
func (o *orphan) getterOnlyReceived(ret *ast.ReturnStmt, depth int) bool {
	if len(ret.Results) != 1 {
		return false
	}
	var fd *ast.FuncDecl
	for cur := o.parents[ret]; cur != nil; cur = o.parents[cur] {
		if _, ok := cur.(*ast.FuncLit); ok {
			return false
		}
		if d, ok := cur.(*ast.FuncDecl); ok {
			fd = d
			break
		}
	}
	if fd == nil || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
		return false
	}
	fn, ok := o.pass.TypesInfo.Defs[fd.Name].(*types.Func)
	if !ok {
		return false
	}
	// Whoever gets a receive-only channel (here or in another package) can
	// neither send on it nor close it: the getter hands out no way to wake it.
	ch, ok := fn.Type().(*types.Signature).Results().At(0).Type().Underlying().(*types.Chan)
	if !ok || (!o.send && ch.Dir() != types.RecvOnly) || (o.send && ch.Dir() != types.SendOnly) {
		return false
	}
	// Receives through the getter in this package (<-s.Done()) wait on it too.
	for _, f := range o.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, isCall := n.(*ast.CallExpr); isCall && o.calledDecl(call) == fd {
				o.receiveUse(call, depth-1) // other uses of the result cannot wake it either
			}
			return true
		})
	}
	return true
}
