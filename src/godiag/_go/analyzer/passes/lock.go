package passes

import (
	"go/ast"
	"go/types"
	"strings"

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
func scanLocked(pass *analysis.Pass, list []ast.Stmt) {
	for i, s := range list {
		key, unlock := lockCall(pass, s)
		if key == "" {
			continue
		}
		for _, t := range list[i+1:] {
			if d, ok := t.(*ast.DeferStmt); ok && mentionsUnlock(d, key, unlock) {
				continue
			}
			if mentionsUnlock(t, key, unlock) {
				break
			}
			if k2, _ := lockCall(pass, t); k2 == key {
				break
			}
			if what, at := blockingOp(pass, t); at != nil {
				pass.Reportf(at.Pos(), "%s while holding %s (locked at line %d): every other user of the lock waits as long as this blocks; release the lock before blocking, or copy what you need under the lock", what, key, posLine(pass.Fset, s.Pos()))
				break
			}
		}
	}
}

// blockingOp finds the first blocking operation in s, ignoring function
// literals, go statements and selects that have a default case.
func blockingOp(pass *analysis.Pass, s ast.Stmt) (string, ast.Node) {
	var what string
	var at ast.Node
	shallow(s, func(n ast.Node) bool {
		if at != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.GoStmt, *ast.DeferStmt:
			return false
		case *ast.SelectStmt:
			if len(x.Body.List) == 0 {
				return false // select {}: parks on purpose (e.g. before a crash), waits for nothing
			}
			for _, c := range x.Body.List {
				if cc, ok := c.(*ast.CommClause); ok && cc.Comm == nil {
					// Non-blocking select; its case bodies still run locked.
					for _, c2 := range x.Body.List {
						for _, st := range c2.(*ast.CommClause).Body {
							if w, a := blockingOp(pass, st); a != nil {
								what, at = w, a
								return false
							}
						}
					}
					return false
				}
			}
			what, at = "select without default", x
			return false
		case *ast.SendStmt:
			// Buffered channels sized for their sends (result and notify channels)
			// never block: only sends on channels this package makes unbuffered count.
			if knownUnbuffered(pass, x.Chan) {
				what, at = "channel send on "+types.ExprString(x.Chan), x
			}
		case *ast.UnaryExpr:
			if x.Op.String() == "<-" {
				what, at = "channel receive from "+types.ExprString(x.X), x
			}
		case *ast.CallExpr:
			name := calleeName(pass.TypesInfo, x)
			if label, ok := blockingCalls[name]; ok {
				what, at = label, x
			} else if strings.HasPrefix(name, "(net.Conn).") && (strings.HasSuffix(name, ".Read") || strings.HasSuffix(name, ".Write")) {
				what, at = "net.Conn "+name[len("(net.Conn)."):], x
			}
		}
		return at == nil
	})
	return what, at
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
