#include <stdio.h>

/* No lib.c here: the only code dropped is a whole unit. */
static int used_lib(int x) { return x + 7; }

__attribute__((noinline)) int used_small(int x) {
  return x * 3 + 1; /* @used_small */
}

int main(int argc, char **argv) {
  (void)argv;
  printf("%d\n", used_small(argc) + used_lib(argc)); /* @main */
  return 0;
}
