#ifndef GREET_H
#define GREET_H

/* Writes a greeting for name to stdout; returns its length. */
int greet(const char *name);

#endif
