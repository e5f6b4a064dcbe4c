package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
)

// TransportPerRequest flags an http.Transport built inside a function that uses it
// for requests and then drops it: each call opens new idle keep-alive connections
// (each with reader/writer goroutines) that nobody will reuse or close.
var TransportPerRequest = &analysis.Analyzer{
	Name: "transport_per_request",
	Doc:  "new http.Transport (or a Client with one) built per request and dropped",
	Run:  runTransport,
}

var requestMethods = map[string]bool{
	"Do": true, "Get": true, "Post": true, "Head": true, "PostForm": true, "RoundTrip": true,
}

func runTransport(pass *analysis.Pass) (any, error) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		parents := parentMap(body)
		shallow(body, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isTypeNamed(pass.TypesInfo.TypeOf(lit), "net/http", "Transport") {
				return true
			}
			if setsTrue(lit, "DisableKeepAlives") {
				return true
			}
			// The transport lands in a variable, or in a Client literal's Transport field.
			holder := holderVar(pass, parents, lit)
			if holder == nil {
				return true
			}
			if usedOnlyForRequests(pass, parents, body, holder, 0) {
				pass.Reportf(lit.Pos(), "http.Transport created per call and dropped after its requests: its idle connections and their goroutines leak on every call; create one Transport/Client once and reuse it (or set DisableKeepAlives)")
			}
			return true
		})
	})
	return nil, nil
}

func setsTrue(lit *ast.CompositeLit, field string) bool {
	for _, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == field {
				if v, ok := kv.Value.(*ast.Ident); ok && v.Name == "true" {
					return true
				}
			}
		}
	}
	return false
}

// holderVar: the local variable that ends up holding lit (directly, or the Client
// whose Transport field it fills).
func holderVar(pass *analysis.Pass, parents map[ast.Node]ast.Node, lit *ast.CompositeLit) *types.Var {
	var cur ast.Node = lit
	if u, ok := parents[cur].(*ast.UnaryExpr); ok {
		cur = u
	}
	if kv, ok := parents[cur].(*ast.KeyValueExpr); ok {
		client, ok := parents[kv].(*ast.CompositeLit)
		if !ok || !isTypeNamed(pass.TypesInfo.TypeOf(client), "net/http", "Client") {
			return nil
		}
		return holderVar(pass, parents, client)
	}
	switch p := parents[cur].(type) {
	case *ast.AssignStmt:
		if len(p.Lhs) == 1 && len(p.Rhs) == 1 {
			if v := objOf(pass.TypesInfo, p.Lhs[0]); isLocal(v) {
				if id, ok := p.Lhs[0].(*ast.Ident); ok && pass.TypesInfo.Defs[id] == v {
					return v
				}
			}
		}
	case *ast.ValueSpec:
		if len(p.Names) == 1 && len(p.Values) == 1 {
			if v, ok := pass.TypesInfo.Defs[p.Names[0]].(*types.Var); ok && isLocal(v) {
				return v
			}
		}
	}
	return nil
}

// usedOnlyForRequests: every use of v is a request method call (at least one), or
// (for a transport) filling the Transport field of a Client that itself only makes
// requests. CloseIdleConnections anywhere means the author cleans up.
func usedOnlyForRequests(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, v *types.Var, depth int) bool {
	if depth > 2 {
		return false
	}
	requests := 0
	for _, id := range identUses(pass.TypesInfo, body, v) {
		if sel, ok := parents[id].(*ast.SelectorExpr); ok && sel.X == id {
			if call, ok := parents[sel].(*ast.CallExpr); ok && call.Fun == sel && requestMethods[sel.Sel.Name] {
				requests++
				continue
			}
			if sel.Sel.Name == "CloseIdleConnections" {
				return false
			}
			continue // reading or setting fields
		}
		if kv, ok := parents[id].(*ast.KeyValueExpr); ok && kv.Value == id {
			client, ok := parents[kv].(*ast.CompositeLit)
			if ok && isTypeNamed(pass.TypesInfo.TypeOf(client), "net/http", "Client") {
				if cv := holderVar(pass, parents, client); cv != nil && usedOnlyForRequests(pass, parents, body, cv, depth+1) {
					requests++
					continue
				}
			}
		}
		_ = astutil.Unparen
		return false
	}
	return requests > 0
}
