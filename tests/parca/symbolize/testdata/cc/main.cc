#include <cstdio>

namespace shapes {

class Circle {
 public:
  explicit Circle(int r) : r_(r) {}
  __attribute__((noinline)) long Area() const;

 private:
  int r_;
};

long Circle::Area() const {
  volatile long a = 3L * r_ * r_; /* @area */
  return a;
}

}  // namespace shapes

int main(int argc, char **) {
  shapes::Circle c(argc + 1);
  std::printf("%ld\n", c.Area()); /* @main */
  return 0;
}
