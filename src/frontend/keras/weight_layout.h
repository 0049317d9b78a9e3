// Rearranging Keras weights into LiteRT layouts. Weights are the bulk of a
// model, so these run once per weight with cache-friendly loops.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "ir/tensor_data.h"

namespace k2l::keras {

// Output dim d is input dim perm[d] (float32 data). A perm that moves the
// last axis to the front, as (kh, kw, in, out) -> (out, kh, kw, in) does, is
// a 2-D transpose and runs blocked.
ir::TensorData Permute(const ir::TensorData& t, const std::vector<int>& perm);

// The same bytes under another shape of equal size.
ir::TensorData Reshaped(const ir::TensorData& t, ir::Shape shape);

// Columns [begin, end) of a 2-D float32 matrix.
ir::TensorData ColumnRange(const ir::TensorData& t, int64_t begin, int64_t end);

// Row `i` of a 2-D float32 matrix, as a 1-D tensor.
ir::TensorData Row(const ir::TensorData& t, int64_t i);

}  // namespace k2l::keras
