// BERT (keras_hub.models.BertBackbone and BertTextClassifier), as keras-hub
// 0.32 builds it: token, position and segment embeddings summed and
// normalized, post-norm encoder blocks over the padding mask, a tanh pooler
// on the first token, and the classifier head on the pooled output.
#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {


Result<TaskGraph> BuildBertTextClassifier(const BuildInput& in) {
  Hyperparams hp(in.backbone, "BertBackbone");
  K2L_ASSIGN_OR_RETURN(TransformerSizes sizes, ReadTransformerSizes(hp));
  const auto [vocab, layers, heads, hidden, inter] = sizes;
  K2L_ASSIGN_OR_RETURN(int64_t max_len, hp.IntOr("max_sequence_length", 512));
  K2L_ASSIGN_OR_RETURN(int64_t segments, hp.IntOr("num_segments", 2));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.1));
  Hyperparams task(in.task, "BertTextClassifier");
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  K2L_ASSIGN_OR_RETURN(double task_dropout, task.FloatOr("dropout", 0.1));
  const int64_t len = in.sequence_length;
  const std::string backbone_name = NameOr(in.backbone, "bert_backbone");

  GraphBuilder b(backbone_name);
  json token_ids = b.Input("token_ids", "int32", {len});
  json tokens = b.Call("ReversibleEmbedding", "token_embedding",
                       ReversibleEmbeddingConfig(vocab, hidden, true),
                       json::array({token_ids}));
  json segment_ids = b.Input("segment_ids", "int32", {len});
  json positions = b.Call("PositionEmbedding", "position_embedding",
                          {{"sequence_length", max_len}},
                          json::array({tokens}), json::object(),
                          "keras_hub>PositionEmbedding");
  json segs = b.Call("Embedding", "segment_embedding",
                     {{"input_dim", segments},
                      {"output_dim", hidden},
                      {"mask_zero", false}},
                     json::array({segment_ids}));
  json x = b.Call("Add", "embeddings_add", json::object(),
                  json::array({json::array({tokens, positions, segs})}));
  x = b.Call("LayerNormalization", "embeddings_layer_norm",
             LayerNormConfig(1e-12),
             json::array({x}));
  x = b.Call("Dropout", "embeddings_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});
  json padding_mask = b.Input("padding_mask", "int32", {len});
  for (int64_t i = 0; i < layers; ++i) {
    x = b.Call("TransformerEncoder", "transformer_layer_" + std::to_string(i),
               {{"intermediate_dim", inter},
                {"num_heads", heads},
                {"dropout", dropout},
                {"activation", GeluApproximate()},
                {"layer_norm_epsilon", 1e-12},
                {"normalize_first", false}},
               json::array({x}), {{"padding_mask", padding_mask}},
               "keras_hub>TransformerEncoder");
  }
  json first = b.TokenAt("get_item", x, 0);
  json pooled = b.Call("Dense", "pooled_dense",
                       {{"units", hidden}, {"activation", "tanh"},
                        {"use_bias", true}},
                       json::array({first}));
  json backbone = b.Build({{"token_ids", token_ids},
                           {"segment_ids", segment_ids},
                           {"padding_mask", padding_mask}},
                          {{"sequence_output", x}, {"pooled_output", pooled}});

  // BertTextClassifier: dropout and a Dense on the pooled output.
  GraphBuilder t(NameOr(in.task, "bert_text_classifier"));
  json t_pad = t.Input("padding_mask", "int32", {len});
  json t_seg = t.Input("segment_ids", "int32", {len});
  json t_tok = t.Input("token_ids", "int32", {len});
  // The backbone's inputs in its own (sorted) order, its outputs sorted:
  // pooled_output is output 0.
  json out = t.CallModel(backbone, json::array({json::array({t_pad, t_seg, t_tok})}));
  json y = t.Call("Dropout", "classifier_dropout", {{"rate", task_dropout}},
                  json::array({out}), {{"training", false}});
  json activation = in.task.value("activation", json(nullptr));
  if (activation.is_null()) activation = "linear";
  y = t.Call("Dense", "logits",
             {{"units", classes}, {"activation", activation}, {"use_bias", true}},
             json::array({y}));
  TaskGraph g;
  g.model = t.Build({{"token_ids", t_tok},
                     {"segment_ids", t_seg},
                     {"padding_mask", t_pad}},
                    {{"logits", y}});
  g.backbone_layer = backbone_name;
  g.head_layers = {"classifier_dropout", "logits"};
  return g;
}

}  // namespace k2l::hub
