#ifndef RULES_TESTS_FIXTURE_LIB_H_
#define RULES_TESTS_FIXTURE_LIB_H_

int fixture_lib(void);

#endif  // RULES_TESTS_FIXTURE_LIB_H_
