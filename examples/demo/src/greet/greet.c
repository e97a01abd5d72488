#include <stdio.h>

#include "greet.h"

int greet(char *buf, int size, const char *name) {
  return snprintf(buf, size, "hello, %s: this binary's debuginfo is in the store", name);
}
