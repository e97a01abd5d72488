#include <stdio.h>

int main(void) {
  puts("hello from the smoke test");
  return 0;
}
