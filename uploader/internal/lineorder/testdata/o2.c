/* Built with -O2: main goes to .text.startup and the error path of
   checked_sum to .text.unlikely (checked_sum.cold), so this unit's line
   table has three sequences, not in address order. */
#include <stdio.h>
#include <stdlib.h>

long twice(long x);

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
    s += twice(v[i]) + v[i]; /* @hot */
  }
  return s;
}

int main(int argc, char **argv) {
  long v[64];
  int n = argc > 1 ? atoi(argv[1]) : 10;
  for (int i = 0; i < n && i < 64; i++) v[i] = i - (argc > 2);
  printf("%ld\n", checked_sum(v, n < 64 ? n : 64)); /* @main */
  return 0;
}
