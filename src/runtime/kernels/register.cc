#include "runtime/kernels/register.h"

namespace k2l::runtime::kernels {

Status RegisterAll(OpResolver& r) {
  K2L_RETURN_IF_ERROR(RegisterReshapeKernels(r));
  K2L_RETURN_IF_ERROR(RegisterNNKernels(r));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
