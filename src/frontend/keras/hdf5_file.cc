#include "frontend/keras/hdf5_file.h"

#include <atomic>
#include <cstring>
#include <limits>

namespace k2l::keras {

// HDF5's core driver reads a file image through these callbacks. They hand
// out the caller's buffer for every "copy" HDF5 asks for, so the image is
// read in place and never copied, freed or written. (H5LTopen_file_image
// with H5LT_FILE_IMAGE_DONT_COPY does the same but leaks its bookkeeping on
// every close in HDF5 < 1.14.4: HDFGroup/hdf5#827.)
struct H5Image {
  std::shared_ptr<const std::vector<uint8_t>> bytes;

  static void* Malloc(size_t size, H5FD_file_image_op_t op, void* udata) {
    auto* self = static_cast<H5Image*>(udata);
    if (op == H5FD_FILE_IMAGE_OP_PROPERTY_LIST_GET ||
        size != self->bytes->size()) {
      return nullptr;  // nothing but the image itself is ever handed out
    }
    return const_cast<uint8_t*>(self->bytes->data());
  }
  static void* Memcpy(void* dest, const void* src, size_t, H5FD_file_image_op_t,
                      void*) {
    return dest == src ? dest : nullptr;  // Malloc only returns the image
  }
  static herr_t Free(void*, H5FD_file_image_op_t, void*) { return 0; }
  static void* CopyUdata(void* udata) { return udata; }
  static herr_t FreeUdata(void*) { return 0; }
};

namespace {

// HDF5 prints its error stack to stderr by default; we report our own.
void SilenceHdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// Reads an attribute's strings, whatever their storage. All three occur in
// real files:
//  - variable-length strings: what h5py writes for Python `str` (Keras 3's
//    model_config, layer_names and weight_names);
//  - fixed-length strings: what h5py writes for `bytes` / numpy `S` arrays
//    (tf.keras 2's model_config and name lists);
//  - an empty float64 array: what h5py writes for an empty list (the
//    weight_names of a layer without weights).
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
    return Status::Invalid(where + ": expected strings, found a " +
                           std::to_string(n) + "-element non-string array");
  }
  if (n == 0) return out;
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (H5Aread(attr, mem.get(), ptrs.data()) < 0) {
      return Status::Invalid(where + ": cannot read the strings");
    }
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    return out;
  }
  size_t len = H5Tget_size(type.get());
  if (len == 0 ||
      static_cast<size_t>(n) > std::numeric_limits<size_t>::max() / len - 1) {
    return Status::Invalid(where + ": malformed string type");
  }
  std::vector<char> buf(len * static_cast<size_t>(n) + 1, '\0');
  if (H5Aread(attr, type.get(), buf.data()) < 0) {
    return Status::Invalid(where + ": cannot read the strings");
  }
  bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (hssize_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * len;
    size_t l = strnlen(s, len);
    while (space_padded && l > 0 && s[l - 1] == ' ') --l;
    out.emplace_back(s, l);
  }
  return out;
}

// The IR dtype of a dataset and the memory type to read it with.
struct ReadPlan {
  ir::DType dtype;
  hid_t mem_type;  // a native type, or owned.get()
  H5Id owned;
};

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
    return Status::Invalid("'" + name +
                           "' is empty (0 bytes). Re-save the model");
  }
  auto image = std::make_shared<H5Image>();
  image->bytes = std::move(bytes);
  H5FD_file_image_callbacks_t callbacks = {
      H5Image::Malloc, H5Image::Memcpy,    nullptr,  // no realloc: read-only
      H5Image::Free,   H5Image::CopyUdata, H5Image::FreeUdata,
      image.get()};
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Open files are told apart by name, so each image gets its own.
  static std::atomic<uint64_t> counter{0};
  std::string unique = "k2l_image_" + std::to_string(counter++);
  hid_t id = -1;
  if (fapl.valid() &&
      H5Pset_fapl_core(fapl.get(), 1 << 20, /*backing_store=*/0) >= 0 &&
      H5Pset_file_image_callbacks(fapl.get(), &callbacks) >= 0 &&
      H5Pset_file_image(fapl.get(), const_cast<uint8_t*>(image->bytes->data()),
                        image->bytes->size()) >= 0) {
    id = H5Fopen(unique.c_str(), H5F_ACC_RDONLY, fapl.get());
  }
  if (id < 0) {
    return Status::Invalid("'" + name +
                           "' is not a readable HDF5 file (truncated or "
                           "corrupt). Re-save the model");
  }
  return H5File(H5Id(id, H5Fclose), name, std::move(image));
}

Result<H5File> H5File::OpenPath(const std::string& path) {
  SilenceHdf5();
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    return Status::Invalid("'" + path +
                           "' is not a readable HDF5 file (truncated, "
                           "corrupt or unreadable). Re-save the model");
  }
  return H5File(H5Id(id, H5Fclose), path, nullptr);
}

Status H5File::Error(const std::string& what) const {
  return Status::Invalid(name_ + ": " + what +
                         ". The file is corrupt or was not written by Keras; "
                         "re-save the model");
}

Status H5File::Unsupported(const std::string& dataset,
                           const std::string& what) const {
  return Status::Invalid(name_ + ": dataset '" + dataset + "' holds " + what +
                         ", which keras2litert cannot read. Store the "
                         "layer's weights as float32, float16, bfloat16 or "
                         "a signed integer type and re-save the model");
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
  if (H5Oget_info_by_name(file_.get(), path.empty() ? "/" : path.c_str(), &info,
                          H5P_DEFAULT) < 0) {
    return false;
  }
  return info.type == H5O_TYPE_GROUP;
}

Result<std::vector<std::string>> H5File::Children(
    const std::string& group) const {
  H5Id g(
      H5Gopen2(file_.get(), group.empty() ? "/" : group.c_str(), H5P_DEFAULT),
      H5Gclose);
  if (!g.valid()) return Error("cannot open group '" + group + "'");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) {
    return Error("cannot list group '" + group + "'");
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC,
                                     i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) return Error("cannot list group '" + group + "'");
    std::string name(static_cast<size_t>(len), '\0');
    if (H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                           name.data(), name.size() + 1, H5P_DEFAULT) < 0) {
      return Error("cannot list group '" + group + "'");
    }
    names.push_back(std::move(name));
  }
  return names;
}

Result<ir::TensorData> H5File::ReadDataset(const std::string& path) const {
  H5Id ds(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) return Error("cannot open dataset '" + path + "'");
  H5Id space(H5Dget_space(ds.get()), H5Sclose);
  H5Id type(H5Dget_type(ds.get()), H5Tclose);
  if (!space.valid() || !type.valid()) {
    return Error("cannot read dataset '" + path + "'");
  }
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) return Error("cannot read the shape of '" + path + "'");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape(dims.begin(), dims.end());

  H5T_class_t cls = H5Tget_class(type.get());
  size_t size = H5Tget_size(type.get());
  auto stored = [&](ir::DType dtype) {  // read the bytes as they are stored
    ReadPlan p{dtype, -1, H5Id(H5Tcopy(type.get()), H5Tclose)};
    p.mem_type = p.owned.get();
    return p;
  };
  ReadPlan plan{ir::DType::kFloat32, H5T_NATIVE_FLOAT, H5Id()};
  if (cls == H5T_FLOAT && size == 4) {
    plan.mem_type = H5T_NATIVE_FLOAT;
  } else if (cls == H5T_FLOAT && size == 8) {
    plan.dtype = ir::DType::kFloat64;
    plan.mem_type = H5T_NATIVE_DOUBLE;
  } else if (cls == H5T_FLOAT && size == 2) {
    // IEEE half has no native C type: keep the bits, little-endian.
    plan = stored(ir::DType::kFloat16);
    if (plan.mem_type >= 0) H5Tset_order(plan.mem_type, H5T_ORDER_LE);
  } else if (cls == H5T_OPAQUE && size == 2) {
    // ml_dtypes' bfloat16, stored by h5py as untagged 2-byte opaque data.
    // Keras 3's .keras writer adds dtype="bfloat16" (H5IOStore); its legacy
    // .h5 writer adds nothing, and no other 2-byte type is stored opaque,
    // so an absent tag also means bfloat16. Any other tag is refused.
    auto tag = StringAttr(path, "dtype");
    if (!tag.ok()) return tag.status();
    if (tag->has_value() && **tag != "bfloat16") {
      return Unsupported(path, "2-byte data of dtype '" + **tag + "'");
    }
    plan = stored(ir::DType::kBFloat16);
  } else if (cls == H5T_ENUM && size == 1) {
    // h5py stores numpy bool as an int8 enum {FALSE: 0, TRUE: 1}. HDF5 does
    // not convert enums to integers, so the bytes are read as stored.
    plan = stored(ir::DType::kBool);
  } else if (cls == H5T_INTEGER) {
    bool is_signed = H5Tget_sign(type.get()) == H5T_SGN_2;
    if (size == 8 && is_signed) {
      plan.dtype = ir::DType::kInt64;
      plan.mem_type = H5T_NATIVE_INT64;
    } else if (size == 4 && is_signed) {
      plan.dtype = ir::DType::kInt32;
      plan.mem_type = H5T_NATIVE_INT32;
    } else if (size == 2 && is_signed) {
      plan.dtype = ir::DType::kInt16;
      plan.mem_type = H5T_NATIVE_INT16;
    } else if (size == 1) {
      plan.dtype = is_signed ? ir::DType::kInt8 : ir::DType::kUInt8;
      plan.mem_type = is_signed ? H5T_NATIVE_INT8 : H5T_NATIVE_UINT8;
    } else {
      return Unsupported(path, std::string(is_signed ? "int" : "uint") +
                                   std::to_string(size * 8) + " data");
    }
  } else {
    return Unsupported(path, "elements of HDF5 class " +
                                 std::to_string(static_cast<int>(cls)) +
                                 " and " + std::to_string(size) + " bytes");
  }
  if (plan.mem_type < 0) {
    return Error("cannot read the element type of '" + path + "'");
  }
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  size_t elem = ir::ElementSize(plan.dtype);
  if (n < 0 ||
      static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / elem) {
    return Error("dataset '" + path + "' has a malformed shape");
  }
  std::shared_ptr<std::vector<uint8_t>> buf;
  try {
    buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) * elem);
  } catch (const std::bad_alloc&) {
    return Error("dataset '" + path + "' claims " + std::to_string(n) +
                 " elements, more than fit in memory");
  }
  if (n > 0 && H5Dread(ds.get(), plan.mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       buf->data()) < 0) {
    return Error("cannot read the data of '" + path + "' (truncated file?)");
  }
  return ir::TensorData(plan.dtype, std::move(shape), std::move(buf));
}

Result<H5Id> H5File::OpenAttr(const std::string& object,
                              const std::string& attr) const {
  H5Id a(H5Aopen_by_name(file_.get(), object.empty() ? "/" : object.c_str(),
                         attr.c_str(), H5P_DEFAULT, H5P_DEFAULT),
         H5Aclose);
  if (!a.valid()) {
    return Error("cannot open attribute '" + attr + "' of '" + object + "'");
  }
  return a;
}

Result<std::optional<std::string>> H5File::StringAttr(
    const std::string& object, const std::string& attr) const {
  const char* obj = object.empty() ? "/" : object.c_str();
  if (!Exists(object) ||
      H5Aexists_by_name(file_.get(), obj, attr.c_str(), H5P_DEFAULT) <= 0) {
    return std::optional<std::string>();
  }
  K2L_ASSIGN_OR_RETURN(H5Id a, OpenAttr(object, attr));
  K2L_ASSIGN_OR_RETURN(auto strings,
                       ReadStrings(a.get(), name_ + ": attribute '" + attr +
                                                "' of '" + object + "'"));
  if (strings.empty()) return std::optional<std::string>(std::string());
  return std::optional<std::string>(std::move(strings[0]));
}

Result<std::vector<std::string>> H5File::StringListAttr(
    const std::string& object, const std::string& attr) const {
  const char* obj = object.empty() ? "/" : object.c_str();
  if (!Exists(object) ||
      H5Aexists_by_name(file_.get(), obj, attr.c_str(), H5P_DEFAULT) <= 0) {
    return Error("'" + object + "' has no attribute '" + attr + "'");
  }
  K2L_ASSIGN_OR_RETURN(H5Id a, OpenAttr(object, attr));
  return ReadStrings(a.get(),
                     name_ + ": attribute '" + attr + "' of '" + object + "'");
}

}  // namespace k2l::keras
