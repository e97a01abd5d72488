#include <iostream>

#include "cc/lib.h"

int main(int argc, char** argv) {
  std::cout << examples::Greeting(argc > 1 ? argv[1] : "world") << std::endl;
  return 0;
}
