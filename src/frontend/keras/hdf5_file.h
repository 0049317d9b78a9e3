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

struct H5Image;  // an in-memory file image and what HDF5 needs to read it

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
  // Opens `bytes` as an HDF5 file image, read in place (no copy); the file
  // keeps the bytes alive. `name` is used in error messages.
  static Result<H5File> OpenImage(
      std::shared_ptr<const std::vector<uint8_t>> bytes,
      const std::string& name);
  // Opens a file on disk; datasets are read from it on demand.
  static Result<H5File> OpenPath(const std::string& path);

  H5File(H5File&&) noexcept = default;
  // Closes the old file before releasing the image it reads.
  H5File& operator=(H5File&& o) noexcept {
    file_ = std::move(o.file_);
    image_ = std::move(o.image_);
    name_ = std::move(o.name_);
    return *this;
  }

  const std::string& name() const { return name_; }
  // Whether every link on `path` exists ("a/b/c", relative to the root).
  bool Exists(const std::string& path) const;
  bool IsGroup(const std::string& path) const;
  // Names of the children of a group, in HDF5's (alphabetical) order.
  Result<std::vector<std::string>> Children(const std::string& group) const;
  // Reads a whole dataset into its IR dtype: float16/32/64, int8/16/32/64,
  // uint8, bool (h5py's int8 enum) and bfloat16. h5py stores ml_dtypes'
  // bfloat16 as 2-byte opaque data; Keras 3's .keras writer marks it with a
  // dtype="bfloat16" attribute, its legacy .h5 writer does not.
  Result<ir::TensorData> ReadDataset(const std::string& path) const;
  // A string attribute; nullopt when absent. An attribute holding an array
  // of strings yields its first element; h5py's empty-list form yields "".
  Result<std::optional<std::string>> StringAttr(const std::string& object,
                                                const std::string& attr) const;
  // A string-array attribute, fixed- or variable-length. h5py writes an
  // empty list as an empty float64 array, which reads as an empty vector.
  // A missing attribute is an error.
  Result<std::vector<std::string>> StringListAttr(
      const std::string& object, const std::string& attr) const;

 private:
  H5File(H5Id file, std::string name, std::shared_ptr<H5Image> image)
      : image_(std::move(image)),
        file_(std::move(file)),
        name_(std::move(name)) {}
  Status Error(const std::string& what) const;
  Status Unsupported(const std::string& dataset, const std::string& what) const;
  Result<H5Id> OpenAttr(const std::string& object,
                        const std::string& attr) const;

  // The in-memory image, read in place by HDF5. Declared before file_ so it
  // is destroyed after the file is closed.
  std::shared_ptr<H5Image> image_;
  H5Id file_;
  std::string name_;
};

}  // namespace k2l::keras
