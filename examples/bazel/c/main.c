#include <stdio.h>

#include "c/greeting.h"

int main(void) {
  printf("%s\n", greeting());
  return 0;
}
