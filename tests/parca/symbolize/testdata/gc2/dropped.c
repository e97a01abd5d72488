/* Every function of this file is dropped by --gc-sections: its whole unit
   (line table and ranges) is left at address 0. */
#define R(k) for (int i = 0; i < n; i++) s += v[i] * (k) ^ (s >> ((k) % 5));
#define R10(k) R(k) R(k + 1) R(k + 2) R(k + 3) R(k + 4) R(k + 5) R(k + 6) R(k + 7) R(k + 8) R(k + 9)

long dropped_big(long *v, int n) {
  long s = 0;
  R10(0) R10(10) R10(20) R10(30) R10(40) R10(50) R10(60) R10(70) R10(80) R10(90)
  R10(100) R10(110) R10(120) R10(130) R10(140) R10(150) R10(160) R10(170) R10(180) R10(190)
  return s;
}
