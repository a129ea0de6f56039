#include "financialapi/common/file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace financialapi {

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return NotFound("file " + path + " does not exist");
    return Status(StatusCode::kPermissionDenied, "cannot open " + path + ": " + std::strerror(err));
  }
  std::ostringstream content;
  // A directory opens but cannot be read; the failure shows on the output stream, not on `in`.
  if (!(content << in.rdbuf()) || in.bad()) return Internal("error reading " + path + " (is it a regular file?)");
  return content.str();
}

std::optional<std::string> GetEnv(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace financialapi
