#include "runtime/fast/xnnpack.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>

namespace k2l::runtime::fast {

namespace {

bool Initialized() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

XnnOperator Wrap(xnn_status status, xnn_operator_t op) {
  if (status != xnn_status_success) {
    if (op != nullptr) xnn_delete_operator(op);
    return XnnOperator();
  }
  return XnnOperator(op);
}

// The padding after the last element: the rest of the total padding
// LiteRT's arithmetic gives (the leading part is w's pad_*).
uint32_t PadAfter(int in, int out, int k, int stride, int dilation,
                  int before) {
  const int64_t effective = int64_t{k - 1} * dilation + 1;
  const int64_t total = int64_t{out - 1} * stride + effective - in;
  return static_cast<uint32_t>(std::max<int64_t>(0, total - before));
}

bool Run(xnn_status setup, const XnnOperator& op, pthreadpool* pool) {
  return setup == xnn_status_success &&
         xnn_run_operator(op.get(), pool) == xnn_status_success;
}

}  // namespace

void XnnOperator::Reset() {
  if (op_ != nullptr) xnn_delete_operator(op_);
  op_ = nullptr;
}

XnnOperator CreateConv2D(const reference::Window& w, bool depthwise,
                         const float* filter, const float* bias, float act_min,
                         float act_max) {
  if (!Initialized()) return XnnOperator();
  const uint32_t groups = depthwise ? w.in_c : w.groups;
  const size_t group_in = depthwise ? 1 : w.in_c / w.groups;
  const size_t group_out = w.out_c / groups;
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_convolution2d_nhwc_f32(
      w.pad_h, PadAfter(w.in_w, w.out_w, w.k_w, w.stride_w, w.dil_w, w.pad_w),
      PadAfter(w.in_h, w.out_h, w.k_h, w.stride_h, w.dil_h, w.pad_h), w.pad_w,
      w.k_h, w.k_w, w.stride_h, w.stride_w, w.dil_h, w.dil_w, groups, group_in,
      group_out, w.in_c, w.out_c, filter, bias, act_min, act_max,
      depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &op);
  return Wrap(s, op);
}

bool RunConv2D(const XnnOperator& op, const reference::Window& w,
               const float* input, float* output, pthreadpool* pool) {
  return Run(xnn_setup_convolution2d_nhwc_f32(op.get(), w.batches, w.in_h,
                                              w.in_w, input, output, pool),
             op, pool);
}

XnnOperator CreateDeconv2D(const reference::Window& w, const float* filter,
                           const float* bias, float act_min, float act_max) {
  if (!Initialized()) return XnnOperator();
  // Padding as the forward convolution from the output sees it.
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_deconvolution2d_nhwc_f32(
      w.pad_h, PadAfter(w.out_w, w.in_w, w.k_w, w.stride_w, 1, w.pad_w),
      PadAfter(w.out_h, w.in_h, w.k_h, w.stride_h, 1, w.pad_h), w.pad_w, w.k_h,
      w.k_w, w.stride_h, w.stride_w, 1, 1, 1, w.in_c, w.out_c, w.in_c, w.out_c,
      filter, bias, act_min, act_max, 0, &op);
  return Wrap(s, op);
}

bool RunDeconv2D(const XnnOperator& op, const reference::Window& w,
                 const float* input, float* output, pthreadpool* pool) {
  // XNNPACK's output is stride * (in - 1) + k - padding + adjustment; the
  // adjustment covers outputs past the last window (no padding there).
  const int64_t pad_h =
      PadAfter(w.out_h, w.in_h, w.k_h, w.stride_h, 1, w.pad_h) + w.pad_h;
  const int64_t pad_w =
      PadAfter(w.out_w, w.in_w, w.k_w, w.stride_w, 1, w.pad_w) + w.pad_w;
  const int64_t adj_h =
      w.out_h - (int64_t{w.stride_h} * (w.in_h - 1) + w.k_h - pad_h);
  const int64_t adj_w =
      w.out_w - (int64_t{w.stride_w} * (w.in_w - 1) + w.k_w - pad_w);
  if (adj_h < 0 || adj_w < 0 || adj_h >= w.stride_h || adj_w >= w.stride_w)
    return false;
  return Run(
      xnn_setup_deconvolution2d_nhwc_f32(
          op.get(), w.batches, w.in_h, w.in_w, static_cast<uint32_t>(adj_h),
          static_cast<uint32_t>(adj_w), input, output, pool),
      op, pool);
}

XnnOperator CreateFullyConnected(int64_t depth, int64_t units,
                                 const float* weights, const float* bias,
                                 float act_min, float act_max) {
  if (!Initialized()) return XnnOperator();
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_fully_connected_nc_f32(
      depth, units, depth, units, weights, bias, act_min, act_max, 0, &op);
  return Wrap(s, op);
}

bool RunFullyConnected(const XnnOperator& op, int64_t batch, const float* input,
                       float* output, pthreadpool* pool) {
  return Run(
      xnn_setup_fully_connected_nc_f32(op.get(), batch, input, output, pool),
      op, pool);
}

XnnOperator CreatePool2D(reference::PoolKind kind, const reference::Window& w,
                         float act_min, float act_max) {
  if (!Initialized() || kind == reference::PoolKind::kL2) return XnnOperator();
  const uint32_t right =
      PadAfter(w.in_w, w.out_w, w.k_w, w.stride_w, 1, w.pad_w);
  const uint32_t bottom =
      PadAfter(w.in_h, w.out_h, w.k_h, w.stride_h, 1, w.pad_h);
  xnn_operator_t op = nullptr;
  xnn_status s =
      kind == reference::PoolKind::kMax
          ? xnn_create_max_pooling2d_nhwc_f32(w.pad_h, right, bottom, w.pad_w,
                                              w.k_h, w.k_w, w.stride_h,
                                              w.stride_w, 1, 1, w.in_c, w.in_c,
                                              w.in_c, act_min, act_max, 0, &op)
          : xnn_create_average_pooling2d_nhwc_f32(
                w.pad_h, right, bottom, w.pad_w, w.k_h, w.k_w, w.stride_h,
                w.stride_w, w.in_c, w.in_c, w.in_c, act_min, act_max, 0, &op);
  return Wrap(s, op);
}

bool RunPool2D(const XnnOperator& op, reference::PoolKind kind,
               const reference::Window& w, const float* input, float* output,
               pthreadpool* pool) {
  const xnn_status s =
      kind == reference::PoolKind::kMax
          ? xnn_setup_max_pooling2d_nhwc_f32(op.get(), w.batches, w.in_h,
                                             w.in_w, input, output, pool)
          : xnn_setup_average_pooling2d_nhwc_f32(op.get(), w.batches, w.in_h,
                                                 w.in_w, input, output, pool);
  return Run(s, op, pool);
}

}  // namespace k2l::runtime::fast
