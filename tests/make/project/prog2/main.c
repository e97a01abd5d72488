#include <stdio.h>

#include "util.h"

int main(int argc, char **argv) {
  int v[] = {argc, 40};
  (void)argv;
  printf("prog2: %d\n", util_sum(v, 2));
  return 0;
}
