#include <stdio.h>
#include <string.h>

#include "greet.h"

int greet(const char *name) {
  char line[128];
  int n = snprintf(line, sizeof line, "hello, %s (from C)\n", name);
  fputs(line, stdout);
  return n;
}
