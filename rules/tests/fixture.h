#ifndef RULES_TESTS_FIXTURE_H_
#define RULES_TESTS_FIXTURE_H_

static inline int fixture_value(void) { return 42; }

#endif  // RULES_TESTS_FIXTURE_H_
