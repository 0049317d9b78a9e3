// A small RAII view of an HDF5 file (libhdf5's C API), opened from a path or
// from bytes in memory, read-only. HDF5's own error printing is silenced;
// every failure becomes a Status naming the file and the object.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/tensor_data.h"

namespace k2l::keras {

// Owns one hid_t and closes it with the matching H5*close.
class H5Id {
 public:
  H5Id() = default;
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Id(H5Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Id& operator=(H5Id&& o) noexcept;
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id();
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

class H5File {
 public:
  // Opens `bytes` as an HDF5 file image; the bytes stay owned by the file.
  static Result<H5File> OpenImage(
      std::shared_ptr<const std::vector<uint8_t>> bytes,
      const std::string& name);
  static Result<H5File> OpenPath(const std::string& path);

  const std::string& name() const { return name_; }
  bool Exists(const std::string& path) const;
  bool IsGroup(const std::string& path) const;
  // Names of the children of a group, in HDF5's (alphabetical) order.
  Result<std::vector<std::string>> Children(const std::string& group) const;
  // Reads a whole dataset. Opaque 2-byte data marked dtype="bfloat16" (as
  // Keras 3 stores bfloat16 variables) is returned as kBFloat16.
  Result<ir::TensorData> ReadDataset(const std::string& path) const;
  // A string attribute; nullopt when absent.
  Result<std::optional<std::string>> StringAttr(const std::string& object,
                                                const std::string& attr) const;
  // A string-array attribute. h5py writes an empty list as an empty float
  // array, which reads as an empty vector here.
  Result<std::vector<std::string>> StringListAttr(
      const std::string& object, const std::string& attr) const;

 private:
  H5File(H5Id file, std::string name,
         std::shared_ptr<const std::vector<uint8_t>> image)
      : file_(std::move(file)),
        name_(std::move(name)),
        image_(std::move(image)) {}
  Status Error(const std::string& what) const;

  H5Id file_;
  std::string name_;
  std::shared_ptr<const std::vector<uint8_t>> image_;
};

}  // namespace k2l::keras
