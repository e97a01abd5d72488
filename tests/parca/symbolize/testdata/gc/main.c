#include <stdio.h>

int used_lib(int);

__attribute__((noinline)) int used_small(int x) {
  return x * 3 + 1; /* @used_small */
}

int main(int argc, char **argv) {
  (void)argv;
  printf("%d\n", used_small(argc) + used_lib(argc)); /* @main */
  return 0;
}
