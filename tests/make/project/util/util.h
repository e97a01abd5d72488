#ifndef UTIL_H
#define UTIL_H
int util_sum(const int *v, int n);
#endif
