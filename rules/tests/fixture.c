#include "rules/tests/fixture.h"

int main(void) { return fixture_value() - 42; }
