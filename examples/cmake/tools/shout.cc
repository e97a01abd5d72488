#include <cctype>
#include <string>

namespace shout {
std::string Upper(const std::string &s) {
  std::string out = s;
  for (auto &c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace shout
