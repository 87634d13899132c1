// sopir: the command-line front end. Only this program prints and exits.
#include <iostream>

int main() {
  std::cerr << "sopir: not built yet\n";
  return 2;
}
