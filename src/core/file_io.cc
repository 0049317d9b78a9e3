#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace k2l {

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"),
                                          std::fclose);
  if (!f) {
    return Status::Invalid("cannot open '" + path + "': " +
                           std::strerror(errno) + ". Check the path");
  }
  if (std::fseek(f.get(), 0, SEEK_END) != 0) {
    return Status::Invalid("cannot read '" + path + "': not a regular file");
  }
  long size = std::ftell(f.get());
  if (size < 0) {
    return Status::Invalid("cannot read '" + path + "': not a regular file");
  }
  std::rewind(f.get());
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (!bytes.empty() &&
      std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    return Status::Invalid("cannot read '" + path + "' in full: " +
                           std::strerror(errno));
  }
  return bytes;
}

}  // namespace k2l
