#include "greet.h"

int main(int argc, char **argv) {
  int total = 0;
  if (argc < 2) return greet("make") > 0 ? 0 : 1;
  for (int i = 1; i < argc; i++) total += greet(argv[i]);
  return total > 0 ? 0 : 1;
}
