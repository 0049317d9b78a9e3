// Shape inference for dense, convolution, pooling and matmul ops.
#include "ir/infer/infer_util.h"

namespace k2l::ir::infer {

namespace {

Result<std::vector<OutputType>> FullyConnected(const Graph& g,
                                               const std::vector<ValueId>& in,
                                               const FullyConnectedAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 3));
  const Value& x = g.value(in[0]);
  const Value& w = g.value(in[1]);
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[1], 2, "the weights"));
  if (x.shape.empty()) return Status::Invalid("the input must have rank >= 1");
  int64_t units = w.shape[0];
  int64_t depth = w.shape[1];
  if (x.shape.back() != kDynamic && x.shape.back() != depth) {
    return Status::Invalid("the input's last dim is " +
                           std::to_string(x.shape.back()) +
                           " but the weights expect " + std::to_string(depth));
  }
  if (in.size() == 3 && in[2] != kNoValue) {
    const Shape& b = g.value(in[2]).shape;
    if (b.size() != 1 || b[0] != units) {
      return Status::Invalid("the bias has shape " + ShapeToString(b) +
                             ", expected [" + std::to_string(units) + "]");
    }
  }
  Shape out;
  if (a.keep_num_dims) {
    out = x.shape;
    out.back() = units;
  } else {
    out = {ProductOrDynamic(x.shape, 0, x.shape.size() - 1), units};
  }
  return std::vector<OutputType>{{x.dtype, out}};
}

Status CheckBias(const Graph& g, const std::vector<ValueId>& in, size_t index,
                 int64_t channels) {
  if (in.size() <= index || in[index] == kNoValue) return Status::Ok();
  const Shape& b = g.value(in[index]).shape;
  if (b.size() != 1 || b[0] != channels) {
    return Status::Invalid("the bias has shape " + ShapeToString(b) +
                           ", expected [" + std::to_string(channels) + "]");
  }
  return Status::Ok();
}

Result<std::vector<OutputType>> Conv(const Graph& g, OpKind kind,
                                     const std::vector<ValueId>& in,
                                     Padding padding, int sh, int sw, int dh,
                                     int dw, int multiplier) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 3));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[0], 4, "the input"));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[1], 4, "the filter"));
  const Shape& x = g.value(in[0]).shape;
  const Shape& f = g.value(in[1]).shape;
  int64_t out_channels;
  if (kind == OpKind::kConv2D) {
    if (x[3] != kDynamic && x[3] != f[3]) {
      return Status::Invalid("the input has " + std::to_string(x[3]) +
                             " channels but the filter expects " +
                             std::to_string(f[3]));
    }
    out_channels = f[0];
  } else {
    if (f[0] != 1 || (x[3] != kDynamic && x[3] * multiplier != f[3])) {
      return Status::Invalid("depthwise filter " + ShapeToString(f) +
                             " does not match " + std::to_string(x[3]) +
                             " channels times multiplier " +
                             std::to_string(multiplier));
    }
    out_channels = f[3];
  }
  K2L_RETURN_IF_ERROR(CheckBias(g, in, 2, out_channels));
  K2L_ASSIGN_OR_RETURN(int64_t oh, WindowOutput(x[1], f[1], sh, dh, padding));
  K2L_ASSIGN_OR_RETURN(int64_t ow, WindowOutput(x[2], f[2], sw, dw, padding));
  return std::vector<OutputType>{
      {g.value(in[0]).dtype, {x[0], oh, ow, out_channels}}};
}

Result<std::vector<OutputType>> TransposeConv(const Graph& g,
                                              const std::vector<ValueId>& in,
                                              const TransposeConvAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 3, 4));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[1], 4, "the filter"));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[2], 4, "the input"));
  const Shape& f = g.value(in[1]).shape;
  const Shape& x = g.value(in[2]).shape;
  if (x[3] != kDynamic && x[3] != f[3]) {
    return Status::Invalid("the input has " + std::to_string(x[3]) +
                           " channels but the filter expects " +
                           std::to_string(f[3]));
  }
  K2L_RETURN_IF_ERROR(CheckBias(g, in, 3, f[0]));
  auto extent = [&](int64_t n, int64_t k, int s) -> int64_t {
    if (n == kDynamic) return kDynamic;
    return a.padding == Padding::kSame ? n * s : (n - 1) * s + k;
  };
  Shape out = {x[0], extent(x[1], f[1], a.stride_h),
               extent(x[2], f[2], a.stride_w), f[0]};
  if (auto os = ConstInts(g, in[0])) {
    if (os->size() != 4)
      return Status::Invalid("output_shape must have 4 values");
    for (int i = 1; i < 4; ++i) {
      if (out[i] != kDynamic && (*os)[i] != out[i]) {
        return Status::Invalid("output_shape disagrees with the padding");
      }
    }
  }
  return std::vector<OutputType>{{g.value(in[2]).dtype, out}};
}

// CONV_3D keeps TensorFlow's filter layout (D, H, W, I, O);
// CONV_3D_TRANSPOSE's is (D, H, W, O, I).
Result<std::vector<OutputType>> Conv3D(const Graph& g, OpKind kind,
                                       const std::vector<ValueId>& in,
                                       const Conv3DAttrs& a) {
  bool transpose = kind == OpKind::kConv3DTranspose;
  size_t xi = transpose ? 2 : 0, fi = 1, bi = transpose ? 3 : 2;
  K2L_RETURN_IF_ERROR(ExpectInputs(in, transpose ? 3 : 2, transpose ? 4 : 3));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[xi], 5, "the input"));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[fi], 5, "the filter"));
  const Shape& x = g.value(in[xi]).shape;
  const Shape& f = g.value(in[fi]).shape;
  int64_t in_ch = transpose ? f[4] : f[3];
  int64_t out_ch = transpose ? f[3] : f[4];
  if (x[4] != kDynamic && x[4] != in_ch) {
    return Status::Invalid("the input has " + std::to_string(x[4]) +
                           " channels but the filter expects " +
                           std::to_string(in_ch));
  }
  K2L_RETURN_IF_ERROR(CheckBias(g, in, bi, out_ch));
  int strides[3] = {a.stride_d, a.stride_h, a.stride_w};
  int dilations[3] = {a.dilation_d, a.dilation_h, a.dilation_w};
  Shape out = {x[0], 0, 0, 0, out_ch};
  for (int i = 0; i < 3; ++i) {
    if (transpose) {
      int64_t n = x[i + 1];
      out[i + 1] = n == kDynamic                 ? kDynamic
                   : a.padding == Padding::kSame ? n * strides[i]
                                                 : (n - 1) * strides[i] + f[i];
    } else {
      K2L_ASSIGN_OR_RETURN(out[i + 1], WindowOutput(x[i + 1], f[i], strides[i],
                                                    dilations[i], a.padding));
    }
  }
  return std::vector<OutputType>{{g.value(in[xi]).dtype, out}};
}

Result<std::vector<OutputType>> Pool(const Graph& g,
                                     const std::vector<ValueId>& in,
                                     const Pool2DAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 1, 1));
  K2L_RETURN_IF_ERROR(ExpectRank(g, in[0], 4, "the input"));
  const Shape& x = g.value(in[0]).shape;
  K2L_ASSIGN_OR_RETURN(
      int64_t oh, WindowOutput(x[1], a.filter_h, a.stride_h, 1, a.padding));
  K2L_ASSIGN_OR_RETURN(
      int64_t ow, WindowOutput(x[2], a.filter_w, a.stride_w, 1, a.padding));
  return std::vector<OutputType>{{g.value(in[0]).dtype, {x[0], oh, ow, x[3]}}};
}

Result<std::vector<OutputType>> BatchMatMul(const Graph& g,
                                            const std::vector<ValueId>& in,
                                            const BatchMatMulAttrs& a) {
  K2L_RETURN_IF_ERROR(ExpectInputs(in, 2, 2));
  const Shape& x = g.value(in[0]).shape;
  const Shape& y = g.value(in[1]).shape;
  if (x.size() < 2 || y.size() < 2) {
    return Status::Invalid("both operands need rank >= 2");
  }
  int64_t m = a.adj_x ? x[x.size() - 1] : x[x.size() - 2];
  int64_t kx = a.adj_x ? x[x.size() - 2] : x[x.size() - 1];
  int64_t ky = a.adj_y ? y[y.size() - 1] : y[y.size() - 2];
  int64_t n = a.adj_y ? y[y.size() - 2] : y[y.size() - 1];
  if (kx != kDynamic && ky != kDynamic && kx != ky) {
    return Status::Invalid("contraction dims differ: " + std::to_string(kx) +
                           " vs " + std::to_string(ky));
  }
  Shape bx(x.begin(), x.end() - 2), by(y.begin(), y.end() - 2);
  K2L_ASSIGN_OR_RETURN(Shape out, Broadcast(bx, by));
  out.push_back(m);
  out.push_back(n);
  return std::vector<OutputType>{{g.value(in[0]).dtype, out}};
}

}  // namespace

Result<std::vector<OutputType>> InferNn(const Graph& g, OpKind kind,
                                        const std::vector<ValueId>& in,
                                        const Attrs& attrs) {
  switch (kind) {
    case OpKind::kFullyConnected:
      return FullyConnected(g, in, std::get<FullyConnectedAttrs>(attrs));
    case OpKind::kConv2D: {
      const auto& a = std::get<Conv2DAttrs>(attrs);
      return Conv(g, kind, in, a.padding, a.stride_h, a.stride_w, a.dilation_h,
                  a.dilation_w, 1);
    }
    case OpKind::kDepthwiseConv2D: {
      const auto& a = std::get<DepthwiseConv2DAttrs>(attrs);
      return Conv(g, kind, in, a.padding, a.stride_h, a.stride_w, a.dilation_h,
                  a.dilation_w, a.depth_multiplier);
    }
    case OpKind::kTransposeConv:
      return TransposeConv(g, in, std::get<TransposeConvAttrs>(attrs));
    case OpKind::kConv3D:
    case OpKind::kConv3DTranspose:
      return Conv3D(g, kind, in, std::get<Conv3DAttrs>(attrs));
    case OpKind::kAveragePool2D:
    case OpKind::kMaxPool2D:
      return Pool(g, in, std::get<Pool2DAttrs>(attrs));
    case OpKind::kBatchMatMul:
      return BatchMatMul(g, in, std::get<BatchMatMulAttrs>(attrs));
    default:
      return Status::Internal("not an nn op");
  }
}

}  // namespace k2l::ir::infer
