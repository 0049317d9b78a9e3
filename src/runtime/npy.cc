#include "runtime/npy.h"

#include <cstring>
#include <regex>

#include "core/file_io.h"

namespace k2l::runtime {

namespace {

struct Descr {
  const char* code;
  TensorType type;
};
constexpr Descr kDescrs[] = {
    {"f4", TensorType::FLOAT32}, {"f2", TensorType::FLOAT16},
    {"f8", TensorType::FLOAT64}, {"i4", TensorType::INT32},
    {"i8", TensorType::INT64},   {"i2", TensorType::INT16},
    {"i1", TensorType::INT8},    {"u1", TensorType::UINT8},
    {"u2", TensorType::UINT16},  {"u4", TensorType::UINT32},
    {"u8", TensorType::UINT64},  {"b1", TensorType::BOOL},
};

}  // namespace

Result<NDArray> ReadNpy(const std::string& path) {
  K2L_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path));
  auto bad = [&](const std::string& why) {
    return Status::Invalid("'" + path + "' is not a readable .npy file: " +
                           why + ". Save it with numpy.save");
  };
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    return bad("the magic bytes are missing");
  int major = bytes[6];
  size_t header_len, start;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("the header is truncated");
    header_len = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) |
                 (static_cast<size_t>(bytes[11]) << 24);
    start = 12;
  } else {
    return bad("format version " + std::to_string(major) + " is unknown");
  }
  if (start + header_len > bytes.size()) return bad("the header is truncated");
  std::string header(bytes.begin() + start, bytes.begin() + start + header_len);
  std::smatch m;
  if (!std::regex_search(header, m,
                         std::regex("'descr':\\s*'([<>|=])([a-z])(\\d+)'")))
    return bad("the header has no dtype");
  std::string order = m[1], code = m[2].str() + m[3].str();
  if (order == ">") return bad("big-endian arrays are not supported");
  NDArray a;
  bool found = false;
  for (const Descr& d : kDescrs) {
    if (code == d.code) {
      a.dtype = d.type;
      found = true;
    }
  }
  if (!found) return bad("dtype '" + code + "' is not supported");
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True")))
    return bad(
        "Fortran-ordered arrays are not supported (use "
        "numpy.ascontiguousarray)");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return bad("the header has no shape");
  std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num);
       it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoi(it->str()));
  size_t need = NumElements(a.shape) * ElementSize(a.dtype);
  size_t data_start = start + header_len;
  if (bytes.size() - data_start != need) {
    return bad("it holds " + std::to_string(bytes.size() - data_start) +
               " bytes of data, but shape " + ShapeString(a.shape) + " needs " +
               std::to_string(need));
  }
  a.data.assign(bytes.begin() + data_start, bytes.end());
  return a;
}

Status WriteNpy(const std::string& path, const NDArray& a) {
  const char* code = nullptr;
  for (const Descr& d : kDescrs)
    if (d.type == a.dtype) code = d.code;
  if (code == nullptr) {
    return Status::Invalid(std::string("cannot write a ") + TypeName(a.dtype) +
                           " array as .npy");
  }
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1      ? ","
                                           : i + 1 < a.shape.size() ? ", "
                                                                    : "");
  shape += ")";
  std::string order = std::string(code) == "b1" || code[1] == '1' ? "|" : "<";
  std::string header = "{'descr': '" + order + code +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts on a 64-byte boundary, newline-terminated.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(header.size() & 0xff);
  out.push_back((header.size() >> 8) & 0xff);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.data.begin(), a.data.end());
  return WriteFileAtomically(path, out);
}

}  // namespace k2l::runtime
