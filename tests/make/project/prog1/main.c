#include <stdio.h>

#include "greet.h"
#include "util.h"

int main(void) {
  int v[] = {1, 2, 3};
  int s = util_sum(v, 3);
  printf("prog1: %d, %s\n", s, greet_word(s));
  return 0;
}
