/* Built with -Os -ffunction-sections: die ends in a call to exit and check
   follows it with no padding, so die's line-table sequence ends exactly
   where check's first row is. Parca v0.28.0 keeps that end row (a
   statement) and took it as check's line: die's exit line. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline, noreturn)) void die(const char *m) {
  fputs(m, stderr); /* @die */
  exit(1);
}

__attribute__((noinline)) int check(int x) { /* @check-entry */
  if (x > 100) die("too big");
  return x * 3 + 1; /* @check */
}

int main(int c, char **v) {
  printf("%d\n", check(c)); /* @main */
  return 0;
}
