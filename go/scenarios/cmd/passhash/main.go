// passhash is a login service that verifies passwords against stretched hashes.
package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math/rand/v2"
	"net/http"

	"godiag.scenarios/internal/svc"
)

const rounds = 60000

// stretch derives the stored hash from a password and salt.
func stretch(password, salt string) [32]byte {
	sum := sha256.Sum256([]byte(salt + password))
	for i := 0; i < rounds; i++ {
		sum = sha256.Sum256(sum[:]) // FAULT(cpu-saturation)
	}
	return sum
}

type userDB map[string][32]byte

func main() {
	db := userDB{}
	for i := 0; i < 50; i++ {
		u := fmt.Sprintf("user%d", i)
		db[u] = stretch("hunter"+u, u)
	}
	s := svc.Start("passhash")
	s.Handle("/login", func(w http.ResponseWriter, r *http.Request) {
		u, pw := r.FormValue("user"), r.FormValue("password")
		want, ok := db[u]
		got := stretch(pw, u)
		if !ok || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "welcome", u)
	})
	s.Workers(3, 0, func(i int) {
		u := fmt.Sprintf("user%d", rand.IntN(50))
		s.Get(fmt.Sprintf("/login?user=%s&password=hunter%s", u, u))
	})
	s.Serve()
}
