package main

// #include "sum.h"
import "C"

import (
	"fmt"
	"os"
)

func main() {
	v := make([]C.long, len(os.Args)+10)
	s := C.checked_sum(&v[0], C.int(len(v)))
	fmt.Println(C.scaled(s, C.long(len(os.Args)))) // @main
}
