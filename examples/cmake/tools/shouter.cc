#include <iostream>
#include <string>

extern "C" const char *greet(const char *name);

namespace shout {
std::string Upper(const std::string &s);
}

int main(int argc, char **argv) {
  std::cout << shout::Upper(greet(argc > 1 ? argv[1] : "world")) << std::endl;
  return 0;
}
