#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace k2l {

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"),
                                          std::fclose);
  if (!f) {
    return Status::Invalid("cannot open '" + path +
                           "': " + std::strerror(errno) + ". Check the path");
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
    return Status::Invalid("cannot read '" + path +
                           "' in full: " + std::strerror(errno));
  }
  return bytes;
}

Status WriteFileAtomically(const std::string& path,
                           const std::vector<uint8_t>& bytes) {
  return WriteFileAtomically(path, bytes.data(), bytes.size());
}

Status WriteFileAtomically(const std::string& path, const uint8_t* data,
                           size_t size) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir =
      target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::Invalid("cannot write '" + path + "': the folder '" +
                           dir.string() +
                           "' does not exist. Create it first, or choose "
                           "another output path");
  }
  std::string tmpl =
      (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  if (fd < 0) {
    return Status::Invalid("cannot create a file in '" + dir.string() +
                           "': " + std::strerror(errno) +
                           ". Check that the folder is writable");
  }
  std::string tmp(name.data());
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Internal("writing '" + path + "' failed: " + err);
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);
  // No fsync: the rename makes the file appear whole or not at all to
  // readers; durability across power loss is the filesystem's business,
  // as for cp.
  if (::close(fd) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::Internal("writing '" + path + "' failed: " + err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::Invalid("cannot write '" + path + "': " + err +
                           ". Check that the path is not a folder and is "
                           "writable");
  }
  return Status::Ok();
}

}  // namespace k2l
