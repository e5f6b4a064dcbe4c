package passes

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// UnclosedResponseBody flags an *http.Response obtained in a function whose Body
// is never closed, or is closed only after a return that can skip it. A body
// left open pins its connection (and a goroutine of the transport) forever.
var UnclosedResponseBody = &analysis.Analyzer{
	Name: "unclosed_response_body",
	Doc:  "http.Response.Body not closed on every path",
	Run:  runBody,
}

var responseCalls = map[string]bool{
	"net/http.Get":                    true,
	"net/http.Post":                   true,
	"net/http.Head":                   true,
	"net/http.PostForm":               true,
	"(*net/http.Client).Do":           true,
	"(*net/http.Client).Get":          true,
	"(*net/http.Client).Post":         true,
	"(*net/http.Client).Head":         true,
	"(*net/http.Client).PostForm":     true,
	"(*net/http.Transport).RoundTrip": true,
}

// Functions known to read a body without closing it.
var bodyReaders = map[string]bool{
	"io.ReadAll": true, "io/ioutil.ReadAll": true, "io.Copy": true, "io.CopyN": true,
	"encoding/json.NewDecoder": true, "bufio.NewReader": true, "bufio.NewScanner": true,
	"io.LimitReader": true,
}

// Readers that consume the body to EOF on success.
var drainsBody = map[string]bool{"io.ReadAll": true, "io/ioutil.ReadAll": true, "io.Copy": true}

func runBody(pass *analysis.Pass) (any, error) {
	funcs(pass, func(_ *ast.File, _ *ast.FuncDecl, _ *ast.FuncType, body *ast.BlockStmt) {
		parents := parentMap(body)
		shallow(body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Rhs) != 1 || len(as.Lhs) != 2 {
				return true
			}
			call, ok := as.Rhs[0].(*ast.CallExpr)
			if !ok || !responseCalls[calleeName(pass.TypesInfo, call)] {
				return true
			}
			resp := objOf(pass.TypesInfo, as.Lhs[0])
			if !isLocal(resp) {
				return true
			}
			errVar := objOf(pass.TypesInfo, as.Lhs[1])
			checkBody(pass, parents, body, as, resp, errVar)
			return true
		})
	})
	return nil, nil
}

func checkBody(pass *analysis.Pass, parents map[ast.Node]ast.Node, body *ast.BlockStmt, as *ast.AssignStmt, resp, errVar *types.Var) {
	var firstClose ast.Node
	for _, id := range identUses(pass.TypesInfo, body, resp) {
		if id.Pos() < as.Pos() {
			return // reused variable: too hard to follow
		}
		sel, ok := parents[id].(*ast.SelectorExpr)
		if !ok || sel.X != id {
			return // resp itself escapes (returned, passed, stored, captured)
		}
		if sel.Sel.Name != "Body" {
			continue
		}
		switch p := parents[sel].(type) {
		case *ast.SelectorExpr:
			if p.Sel.Name == "Close" {
				if firstClose == nil || p.Pos() < firstClose.Pos() {
					firstClose = p
				}
				continue
			}
			return
		case *ast.CallExpr:
			name := calleeName(pass.TypesInfo, p)
			if !bodyReaders[name] {
				return // handed to code that may close it
			}
			// Reading to EOF hands the connection back to the transport, like Close.
			if drainsBody[name] && (firstClose == nil || p.Pos() < firstClose.Pos()) {
				firstClose = p
			}
		default:
			return // assigned elsewhere, compared, ...
		}
	}
	if enclosingFuncLit(parents, as, body) != nil {
		return
	}
	if firstClose == nil {
		pass.Reportf(as.Pos(), "response body of %s is never closed: its connection is never reused or released; add defer %s.Body.Close() after the error check", resp.Name(), resp.Name())
		return
	}
	isClose := func(s ast.Stmt) bool { return s.Pos() <= firstClose.Pos() && firstClose.End() <= s.End() }
	var bad *ast.ReturnStmt
	shallow(body, func(n ast.Node) bool {
		r, ok := n.(*ast.ReturnStmt)
		if !ok || bad != nil || r.Pos() < as.End() || r.Pos() > firstClose.Pos() {
			return bad == nil
		}
		if r.Pos() <= firstClose.Pos() && firstClose.End() <= r.End() {
			return true // return resp.Body.Close()
		}
		if errGuarded(pass, parents, r, body, errVar, resp) || precededBy(parents, r, body, isClose) {
			return true
		}
		bad = r
		return false
	})
	if bad != nil {
		pass.Reportf(bad.Pos(), "return before %s.Body is closed (line %d): the connection leaks on this path; put defer %s.Body.Close() right after the error check", resp.Name(), posLine(pass.Fset, firstClose.Pos()), resp.Name())
	}
}

// errGuarded: r sits in an `if err != nil` / `if resp == nil` branch, where there is
// no body to close.
func errGuarded(pass *analysis.Pass, parents map[ast.Node]ast.Node, r ast.Node, stop ast.Node, errVar, resp *types.Var) bool {
	for cur := parents[r]; cur != nil && cur != stop; cur = parents[cur] {
		ifs, ok := cur.(*ast.IfStmt)
		if !ok {
			continue
		}
		be, ok := ifs.Cond.(*ast.BinaryExpr)
		if !ok {
			continue
		}
		for _, side := range []ast.Expr{be.X, be.Y} {
			v := objOf(pass.TypesInfo, side)
			if v != nil && ((errVar != nil && v == errVar) || v == resp) {
				return true
			}
		}
	}
	return false
}
