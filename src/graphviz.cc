// Graphviz, run as a program: `sop diagram --format svg` and the diagrams of
// `audit report --html`.
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "sopir/error.h"

namespace sopir::cli {

// Runs Graphviz on dot text and returns the SVG.
std::string dot_to_svg(const std::string& dot) {
  char path[] = "/tmp/sopir-diagram-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw storage_error(tr(msg::cli_diagram_temp_file));
  bool written = write(fd, dot.data(), dot.size()) == static_cast<ssize_t>(dot.size());
  close(fd);
  std::string svg;
  int status = -1;
  if (written) {
    std::string command = std::string("/usr/bin/dot -Tsvg '") + path + "' 2>/dev/null";
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char buffer[4096];
      for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) svg.append(buffer, n);
      status = pclose(pipe);
    }
  }
  unlink(path);
  if (status != 0 || svg.empty()) {
    throw usage_error(
        tr(msg::cli_diagram_no_dot));
  }
  return svg;
}

}  // namespace sopir::cli
