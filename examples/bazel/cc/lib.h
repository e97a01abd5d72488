#ifndef EXAMPLES_CC_LIB_H_
#define EXAMPLES_CC_LIB_H_

#include <string>

namespace examples {

std::string Greeting(const std::string& who);

}  // namespace examples

#endif  // EXAMPLES_CC_LIB_H_
