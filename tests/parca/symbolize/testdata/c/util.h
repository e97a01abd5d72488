/* Defined in a header: Parca must name this file, not main.c. */
static inline __attribute__((always_inline)) int square(int x) {
  volatile int t = x;
  return t * t + 1; /* @square */
}

__attribute__((noinline)) static int header_fn(int x) {
  volatile int y = x; /* @header_fn */
  return y + 7;
}
