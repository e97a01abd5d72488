#ifndef EXAMPLES_C_GREETING_H_
#define EXAMPLES_C_GREETING_H_

static inline const char *greeting(void) { return "hello from C"; }

#endif  // EXAMPLES_C_GREETING_H_
