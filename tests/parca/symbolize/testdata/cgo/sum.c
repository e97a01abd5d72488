/* cgo compiles this with -g -O2, each function into the section its
   attributes ask for (.text.hot, .text.unlikely for cold paths, .text),
   which the linker places in its own order: this unit's line table has its
   sequences out of address order. */
#include <stdio.h>
#include <stdlib.h>

#include "sum.h"

__attribute__((cold, noinline, noreturn)) static void bad(long x, int i) {
  fprintf(stderr, "bad value %ld at %d\n", x, i);
  abort();
}

__attribute__((noinline)) long checked_sum(const long *v, int n) {
  long s = 0;
  for (int i = 0; i < n; i++) {
    if (__builtin_expect(v[i] < 0, 0)) {
      bad(v[i], i); /* @cold */
    }
    s += 2 * v[i] + 1; /* @hot */
  }
  return s;
}

__attribute__((hot, noinline)) long scaled(long x, long k) {
  return x * k + k; /* @scaled */
}
