// Command hello-go greets, so that a Make build has a Go binary to upload.
package main

import (
	"fmt"
	"os"
)

func main() {
	names := os.Args[1:]
	if len(names) == 0 {
		names = []string{"make"}
	}
	for _, n := range names {
		fmt.Println(greeting(n))
	}
}
