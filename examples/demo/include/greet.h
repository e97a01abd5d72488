#ifndef GREET_H
#define GREET_H

/* greet builds the greeting for name into buf and returns its length. */
int greet(char *buf, int size, const char *name);

#endif
