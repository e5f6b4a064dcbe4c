// Package greet is a local dependency (a directory replace) so the binary has a Deps entry
// with a replacement.
package greet

// Hello says hello to name.
func Hello(name string) string { return "hello " + name }
