#include "runtime/kernels/register.h"

namespace k2l::runtime::kernels {

Status RegisterAll(OpResolver& r) {
  K2L_RETURN_IF_ERROR(RegisterReshapeKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSegmentKernels(r));
  K2L_RETURN_IF_ERROR(RegisterDataKernels(r));
  K2L_RETURN_IF_ERROR(RegisterControlFlowKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSequenceLstmKernels(r));
  K2L_RETURN_IF_ERROR(RegisterSequenceRnnKernels(r));
  K2L_RETURN_IF_ERROR(RegisterElementwiseKernels(r));
  K2L_RETURN_IF_ERROR(RegisterNNKernels(r));
  K2L_RETURN_IF_ERROR(RegisterNonMaxSuppressionKernels(r));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
