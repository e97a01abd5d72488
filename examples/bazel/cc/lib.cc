#include "cc/lib.h"

namespace examples {

std::string Greeting(const std::string& who) { return "hello, " + who + ", from C++"; }

}  // namespace examples
