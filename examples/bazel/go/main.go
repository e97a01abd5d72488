// Command hello is the rules_go example of rules_debuginfo.
package main

import "fmt"

func main() {
	fmt.Println(greeting())
}
