// NON_MAX_SUPPRESSION_V5 on float32: greedy selection by score with hard
// suppression by IoU, and Gaussian Soft-NMS when sigma > 0. It follows
// LiteRT's reference kernel step by step, quirks included, so that the
// selections (and their order between equal scores) are the same.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <queue>

namespace k2l::runtime::reference {

// IoU of boxes `a` and `b` of `boxes` ([N, 4] rows of two opposite corners,
// [y1, x1, y2, x2] in either order). A box with area <= 0 overlaps
// nothing: its IoU with any box, itself included, is 0.
inline float BoxIou(const float* boxes, int a, int b) {
  const float* p = boxes + 4 * static_cast<int64_t>(a);
  const float* q = boxes + 4 * static_cast<int64_t>(b);
  const float p_ymin = std::min(p[0], p[2]), p_ymax = std::max(p[0], p[2]);
  const float p_xmin = std::min(p[1], p[3]), p_xmax = std::max(p[1], p[3]);
  const float q_ymin = std::min(q[0], q[2]), q_ymax = std::max(q[0], q[2]);
  const float q_xmin = std::min(q[1], q[3]), q_xmax = std::max(q[1], q[3]);
  const float p_area = (p_ymax - p_ymin) * (p_xmax - p_xmin);
  const float q_area = (q_ymax - q_ymin) * (q_xmax - q_xmin);
  if (p_area <= 0.f || q_area <= 0.f) return 0.f;
  const float height = std::min(p_ymax, q_ymax) - std::max(p_ymin, q_ymin);
  const float width = std::min(p_xmax, q_xmax) - std::max(p_xmin, q_xmin);
  const float overlap = std::max(height, 0.f) * std::max(width, 0.f);
  const float joint = p_area + q_area - overlap;
  return joint == 0.f ? 0.f : overlap / joint;
}

struct NmsCandidate {
  int index;
  float score;
  // Selections before this one have already been applied to `score`.
  int checked;
};

struct NmsLowerScore {
  bool operator()(const NmsCandidate& a, const NmsCandidate& b) const {
    return a.score < b.score;
  }
};

// Writes up to min(max_output_size, #scores > score_threshold) selections
// to `indices` and their (possibly decayed) scores to `selected_scores`;
// returns how many. Candidates are scores strictly above score_threshold,
// taken highest first from a binary heap (std::priority_queue over a deque,
// as LiteRT uses: equal scores come out in the heap's order, not by index).
// A candidate is dropped when its IoU with a selection is >= iou_threshold.
// With sigma > 0 each smaller IoU multiplies its score by
// exp(-0.5 * iou^2 / sigma); a decayed candidate still above the threshold
// goes back on the heap. Like LiteRT, a candidate is pushed back even after
// it is selected; it is then normally dropped by its own IoU of 1, but a
// box of zero area (IoU 0) can be selected again.
inline int NonMaxSuppression(const float* boxes, int num_boxes,
                             const float* scores, int max_output_size,
                             float iou_threshold, float score_threshold,
                             float soft_nms_sigma, int32_t* indices,
                             float* selected_scores) {
  std::priority_queue<NmsCandidate, std::deque<NmsCandidate>, NmsLowerScore>
      heap;
  for (int i = 0; i < num_boxes; ++i) {
    if (scores[i] > score_threshold) heap.push(NmsCandidate{i, scores[i], 0});
  }
  const int limit = std::min(static_cast<int>(heap.size()), max_output_size);
  const float decay = soft_nms_sigma > 0.f ? -0.5f / soft_nms_sigma : 0.f;
  int count = 0;
  while (count < limit && !heap.empty()) {
    NmsCandidate c = heap.top();
    heap.pop();
    const float original = c.score;
    bool dropped = false;
    // Newest selections first: they are the likeliest to overlap.
    for (int k = count - 1; k >= c.checked; --k) {
      const float iou = BoxIou(boxes, c.index, indices[k]);
      if (iou >= iou_threshold) {
        dropped = true;
        break;
      }
      if (soft_nms_sigma > 0.f) c.score = c.score * std::exp(decay * iou * iou);
      if (c.score <= score_threshold) break;
    }
    c.checked = count;
    if (dropped) continue;
    if (c.score == original) {
      indices[count] = c.index;
      selected_scores[count] = c.score;
      ++count;
    }
    if (c.score > score_threshold) heap.push(c);
  }
  return count;
}

}  // namespace k2l::runtime::reference
