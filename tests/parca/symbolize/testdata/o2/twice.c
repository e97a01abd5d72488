/* Built with -ffunction-sections in one fixture: each function its own
   section and its own line-table sequence. */
#include "twice.h"

__attribute__((noinline)) long unused(long x) { return x + 1; }

__attribute__((noinline)) long twice(long x) {
  return 2 * x; /* @twice */
}
