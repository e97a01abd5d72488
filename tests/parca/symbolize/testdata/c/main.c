#include <stdio.h>
#include <stdlib.h>

#include "util.h"

__attribute__((noinline)) int compute(int n) {
  int s = 0;
  for (int i = 0; i < n; i++) {
    s += square(i); /* @call_square */
  }
  return s;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  printf("%d %d\n", compute(n), header_fn(n)); /* @main */
  return 0;
}
