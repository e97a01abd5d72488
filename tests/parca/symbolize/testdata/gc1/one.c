/* gc/ in one unit: unused_big is dropped by --gc-sections and its line
   table left at address 0, where Parca took main's lines from it. */
#include <stdio.h>

#define R(k) for (int i = 0; i < n; i++) s += v[i] * (k) ^ (s >> ((k) % 7));
#define R10(k) R(k) R(k + 1) R(k + 2) R(k + 3) R(k + 4) R(k + 5) R(k + 6) R(k + 7) R(k + 8) R(k + 9)

int unused_big(int *v, int n) {
  int s = 0;
  R10(0) R10(10) R10(20) R10(30) R10(40) R10(50) R10(60) R10(70) R10(80) R10(90)
  R10(100) R10(110) R10(120) R10(130) R10(140) R10(150) R10(160) R10(170) R10(180) R10(190)
  return s;
}

__attribute__((noinline)) int used_small(int x) {
  return x * 3 + 1; /* @used_small */
}

int main(int argc, char **argv) { /* @main-entry */
  (void)argv;
  printf("%d\n", used_small(argc)); /* @main */
  return 0;
}
