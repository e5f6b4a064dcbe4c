// Command leakcheck runs godiag's goroutine and resource leak analyzers.
// Run it directly (leakcheck -json ./...) or as `go vet -vettool=$(which leakcheck)`.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"godiag.dev/leakcheck/passes"
)

func main() { multichecker.Main(passes.All...) }
