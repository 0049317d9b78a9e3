// Explicit registration of every kernel family (no static initialisers).
#pragma once

#include "core/status.h"
#include "runtime/kernel.h"

namespace k2l::runtime::kernels {

Status RegisterAll(OpResolver& r);

// One per file in kernels/.
Status RegisterReshapeKernels(OpResolver& r);
Status RegisterSegmentKernels(OpResolver& r);
Status RegisterDataKernels(OpResolver& r);
Status RegisterControlFlowKernels(OpResolver& r);
Status RegisterSequenceLstmKernels(OpResolver& r);
Status RegisterSequenceRnnKernels(OpResolver& r);
Status RegisterElementwiseKernels(OpResolver& r);
Status RegisterNNKernels(OpResolver& r);
Status RegisterNonMaxSuppressionKernels(OpResolver& r);

}  // namespace k2l::runtime::kernels
