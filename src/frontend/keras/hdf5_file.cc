#include "frontend/keras/hdf5_file.h"

#include <hdf5_hl.h>

#include <cstring>

namespace k2l::keras {

namespace {

// HDF5 prints its error stack to stderr by default; we report our own.
void SilenceHdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// Reads an attribute's strings, whatever their storage: fixed-length,
// variable-length, or h5py's empty float array.
Result<std::vector<std::string>> ReadStrings(hid_t attr,
                                             const std::string& where) {
  H5Id type(H5Aget_type(attr), H5Tclose);
  H5Id space(H5Aget_space(attr), H5Sclose);
  if (!type.valid() || !space.valid()) {
    return Status::Invalid(where + ": unreadable attribute");
  }
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) return Status::Invalid(where + ": unreadable attribute shape");
  std::vector<std::string> out;
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_STRING) {
    if (n == 0) return out;  // h5py's empty list
    return Status::Invalid(where + ": expected a string attribute");
  }
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (n > 0 && H5Aread(attr, mem.get(), ptrs.data()) < 0) {
      return Status::Invalid(where + ": cannot read string attribute");
    }
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    if (n > 0)
      H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    return out;
  }
  size_t len = H5Tget_size(type.get());
  std::vector<char> buf(len * static_cast<size_t>(n) + 1, '\0');
  if (n > 0 && H5Aread(attr, type.get(), buf.data()) < 0) {
    return Status::Invalid(where + ": cannot read string attribute");
  }
  for (hssize_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * len;
    out.emplace_back(s, strnlen(s, len));
  }
  return out;
}

}  // namespace

H5Id& H5Id::operator=(H5Id&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0 && close_) close_(id_);
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

H5Id::~H5Id() {
  if (id_ >= 0 && close_) close_(id_);
}

Result<H5File> H5File::OpenImage(
    std::shared_ptr<const std::vector<uint8_t>> bytes,
    const std::string& name) {
  SilenceHdf5();
  if (!bytes || bytes->empty()) {
    return Status::Invalid("'" + name + "' is empty. Re-save the model");
  }
  // The image is read in place: no copy, and HDF5 never frees it.
  hid_t id = H5LTopen_file_image(
      const_cast<uint8_t*>(bytes->data()), bytes->size(),
      H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE);
  if (id < 0) {
    return Status::Invalid("'" + name +
                           "' is not a readable HDF5 file (truncated or "
                           "corrupt). Re-save the model");
  }
  return H5File(H5Id(id, H5Fclose), name, std::move(bytes));
}

Result<H5File> H5File::OpenPath(const std::string& path) {
  SilenceHdf5();
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    return Status::Invalid("'" + path +
                           "' is not a readable HDF5 file (truncated or "
                           "corrupt). Re-save the model");
  }
  return H5File(H5Id(id, H5Fclose), path, nullptr);
}

Status H5File::Error(const std::string& what) const {
  return Status::Invalid(name_ + ": " + what +
                         ". The file is corrupt or not written by Keras; "
                         "re-save the model");
}

bool H5File::Exists(const std::string& path) const {
  if (path.empty() || path == "/") return true;
  // Check each prefix: H5Lexists fails on a missing intermediate group.
  size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix != "/" &&
        H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

bool H5File::IsGroup(const std::string& path) const {
  if (!Exists(path)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(file_.get(), path.c_str(), &info, H5P_DEFAULT) < 0) {
    return false;
  }
  return info.type == H5O_TYPE_GROUP;
}

Result<std::vector<std::string>> H5File::Children(
    const std::string& group) const {
  H5Id g(H5Gopen2(file_.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) return Error("cannot open group '" + group + "'");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0)
    return Error("cannot list '" + group + "'");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC,
                                     i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) return Error("cannot list '" + group + "'");
    std::string name(static_cast<size_t>(len), '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                       name.size() + 1, H5P_DEFAULT);
    names.push_back(std::move(name));
  }
  return names;
}

Result<ir::TensorData> H5File::ReadDataset(const std::string& path) const {
  H5Id ds(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) return Error("cannot open dataset '" + path + "'");
  H5Id space(H5Dget_space(ds.get()), H5Sclose);
  H5Id type(H5Dget_type(ds.get()), H5Tclose);
  if (!space.valid() || !type.valid())
    return Error("cannot read '" + path + "'");
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) return Error("cannot read the shape of '" + path + "'");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape(dims.begin(), dims.end());

  H5T_class_t cls = H5Tget_class(type.get());
  size_t size = H5Tget_size(type.get());
  ir::DType dtype;
  hid_t mem_type;
  H5Id owned_mem;
  if (cls == H5T_FLOAT && size == 4) {
    dtype = ir::DType::kFloat32;
    mem_type = H5T_NATIVE_FLOAT;
  } else if (cls == H5T_FLOAT && size == 8) {
    dtype = ir::DType::kFloat64;
    mem_type = H5T_NATIVE_DOUBLE;
  } else if (cls == H5T_FLOAT && size == 2) {
    // IEEE half: read the raw bits, converted later.
    dtype = ir::DType::kFloat16;
    owned_mem = H5Id(H5Tcopy(type.get()), H5Tclose);
    mem_type = owned_mem.get();
  } else if (cls == H5T_OPAQUE && size == 2) {
    auto tag = StringAttr(path, "dtype");
    if (!tag.ok() || !tag->has_value() || **tag != "bfloat16") {
      return Error("dataset '" + path +
                   "' holds opaque 2-byte data that is "
                   "not marked dtype=\"bfloat16\"");
    }
    dtype = ir::DType::kBFloat16;
    owned_mem = H5Id(H5Tcopy(type.get()), H5Tclose);
    mem_type = owned_mem.get();
  } else if (cls == H5T_INTEGER || cls == H5T_ENUM) {
    bool is_signed = H5Tget_sign(type.get()) == H5T_SGN_2;
    if (cls == H5T_ENUM) {
      dtype = ir::DType::kBool;  // h5py stores numpy bools as an int8 enum
      mem_type = H5T_NATIVE_UINT8;
    } else if (size == 8) {
      dtype = ir::DType::kInt64;
      mem_type = H5T_NATIVE_INT64;
    } else if (size == 4) {
      dtype = ir::DType::kInt32;
      mem_type = H5T_NATIVE_INT32;
    } else if (size == 2 && is_signed) {
      dtype = ir::DType::kInt16;
      mem_type = H5T_NATIVE_INT16;
    } else if (size == 1) {
      dtype = is_signed ? ir::DType::kInt8 : ir::DType::kUInt8;
      mem_type = is_signed ? H5T_NATIVE_INT8 : H5T_NATIVE_UINT8;
    } else {
      return Error("dataset '" + path + "' has an unsupported integer type");
    }
  } else {
    return Error("dataset '" + path + "' has an unsupported element type");
  }
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) *
                                                    ir::ElementSize(dtype));
  if (n > 0 && H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       buf->data()) < 0) {
    return Error("cannot read the data of '" + path + "' (truncated file?)");
  }
  return ir::TensorData(dtype, std::move(shape), std::move(buf));
}

Result<std::optional<std::string>> H5File::StringAttr(
    const std::string& object, const std::string& attr) const {
  if (!Exists(object)) return std::optional<std::string>();
  if (H5Aexists_by_name(file_.get(), object.c_str(), attr.c_str(),
                        H5P_DEFAULT) <= 0) {
    return std::optional<std::string>();
  }
  H5Id a(H5Aopen_by_name(file_.get(), object.c_str(), attr.c_str(), H5P_DEFAULT,
                         H5P_DEFAULT),
         H5Aclose);
  if (!a.valid()) return Error("cannot open attribute '" + attr + "'");
  K2L_ASSIGN_OR_RETURN(
      auto strings, ReadStrings(a.get(), name_ + ": attribute '" + attr + "'"));
  if (strings.empty()) return std::optional<std::string>(std::string());
  return std::optional<std::string>(strings[0]);
}

Result<std::vector<std::string>> H5File::StringListAttr(
    const std::string& object, const std::string& attr) const {
  if (!Exists(object) || H5Aexists_by_name(file_.get(), object.c_str(),
                                           attr.c_str(), H5P_DEFAULT) <= 0) {
    return Error("'" + object + "' has no attribute '" + attr + "'");
  }
  H5Id a(H5Aopen_by_name(file_.get(), object.c_str(), attr.c_str(), H5P_DEFAULT,
                         H5P_DEFAULT),
         H5Aclose);
  if (!a.valid()) return Error("cannot open attribute '" + attr + "'");
  return ReadStrings(a.get(), name_ + ": attribute '" + attr + "'");
}

}  // namespace k2l::keras
