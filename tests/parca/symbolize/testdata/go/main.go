package main

import (
	"fmt"
	"os"
)

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += add(i, n) // @call_add
	}
	return s
}

func add(a, b int) int {
	return a*b + 1 // @add
}

func main() {
	fmt.Println(work(len(os.Args) + 10)) // @main
}
