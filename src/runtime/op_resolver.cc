#include <algorithm>

#include "runtime/kernel.h"
#include "runtime/kernels/register.h"

namespace k2l::runtime {

std::string BuiltinName(fb::BuiltinOperator code) {
  const char* n = fb::EnumNameBuiltinOperator(code);
  if (n == nullptr || *n == '\0')
    return "BUILTIN_" + std::to_string(static_cast<int>(code));
  return n;
}

Status OpResolver::Add(const KernelRegistration& reg) {
  for (const auto& r : regs_) {
    if (r.code == reg.code && r.min_version <= reg.max_version &&
        reg.min_version <= r.max_version) {
      return Status::Internal("kernel for " + BuiltinName(reg.code) +
                              " registered twice");
    }
  }
  regs_.push_back(reg);
  return Status::Ok();
}

const KernelRegistration* OpResolver::Find(fb::BuiltinOperator code,
                                           int version) const {
  for (const auto& r : regs_) {
    if (r.code == code && version >= r.min_version && version <= r.max_version)
      return &r;
  }
  return nullptr;
}

const OpResolver& BuiltinKernels() {
  static const OpResolver* resolver = [] {
    auto* r = new OpResolver();
    Status s = kernels::RegisterAll(*r);
    if (!s.ok()) {
      // A duplicate registration is a programming error caught by the unit
      // tests; keep what registered so the runtime still reports it.
      (void)s;
    }
    return r;
  }();
  return *resolver;
}

}  // namespace k2l::runtime
