// Command inspecthello is built in many variants (stripped, cgo, race, PIE, cross-compiled,
// from a git checkout) so the tests can compare godiag inspect with go version -m.
package main

import (
	"fmt"
	"net"
	"os"

	"example.com/greet"
)

func main() {
	// net makes a cgo build use the C resolver, so CGO_ENABLED=1 links libc dynamically.
	addrs, err := net.LookupHost("localhost")
	fmt.Println(greet.Hello(os.Args[0]), addrs, err)
}
