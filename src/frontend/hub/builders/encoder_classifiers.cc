// DistilBERT and RoBERTa (keras_hub DistilBertBackbone / RobertaBackbone
// with their TextClassifiers), as keras-hub 0.32 builds them: a
// TokenAndPositionEmbedding, LayerNorm and dropout, post-norm encoder
// blocks over the padding mask; the classifier takes the first token
// through a Dense pooler. They differ in epsilons and in the head.
#include "frontend/hub/graph_builder.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/hub/task_registry.h"

namespace k2l::hub {

namespace {

struct EncoderSpec {
  const char* backbone_class;
  const char* task_class;
  const char* default_name;
  const char* embeddings_name;
  double epsilon;
  // The head: optional dropout before the pooler, the pooler's activation.
  bool dropout_before_pooler;
  const char* pooler_activation;
  double default_task_dropout;
};

Result<TaskGraph> BuildEncoderClassifier(const BuildInput& in,
                                         const EncoderSpec& spec) {
  Hyperparams hp(in.backbone, spec.backbone_class);
  K2L_ASSIGN_OR_RETURN(TransformerSizes sizes, ReadTransformerSizes(hp));
  const auto [vocab, layers, heads, hidden, inter] = sizes;
  K2L_ASSIGN_OR_RETURN(int64_t max_len, hp.IntOr("max_sequence_length", 512));
  K2L_ASSIGN_OR_RETURN(double dropout, hp.FloatOr("dropout", 0.1));
  Hyperparams task(in.task, spec.task_class);
  K2L_ASSIGN_OR_RETURN(int64_t classes, task.Int("num_classes"));
  K2L_ASSIGN_OR_RETURN(int64_t pooled_dim, task.IntOr("hidden_dim", hidden));
  K2L_ASSIGN_OR_RETURN(double task_dropout,
                       task.FloatOr("dropout", spec.default_task_dropout));
  const int64_t len = in.sequence_length;
  const std::string backbone_name = NameOr(in.backbone, spec.default_name);

  GraphBuilder b(backbone_name);
  json token_ids = b.Input("token_ids", "int32", {len});
  json x = b.Call("TokenAndPositionEmbedding", spec.embeddings_name,
                  {{"vocabulary_size", vocab},
                   {"sequence_length", max_len},
                   {"embedding_dim", hidden},
                   {"tie_weights", true},
                   {"mask_zero", false}},
                  json::array({token_ids}), json::object(),
                  "keras_hub>TokenAndPositionEmbedding");
  x = b.Call("LayerNormalization", "embeddings_layer_norm",
             LayerNormConfig(spec.epsilon),
             json::array({x}));
  x = b.Call("Dropout", "embeddings_dropout", {{"rate", dropout}},
             json::array({x}), {{"training", false}});
  json padding_mask = b.Input("padding_mask", "int32", {len});
  for (int64_t i = 0; i < layers; ++i) {
    x = b.Call("TransformerEncoder", "transformer_layer_" + std::to_string(i),
               {{"intermediate_dim", inter},
                {"num_heads", heads},
                {"dropout", dropout},
                {"activation", "gelu"},
                {"layer_norm_epsilon", spec.epsilon},
                {"normalize_first", false}},
               json::array({x}), {{"padding_mask", padding_mask}},
               "keras_hub>TransformerEncoder");
  }
  json backbone = b.Build(
      {{"token_ids", token_ids}, {"padding_mask", padding_mask}}, x);

  GraphBuilder t(NameOr(in.task, std::string(spec.task_class)));
  json t_pad = t.Input("padding_mask", "int32", {len});
  json t_tok = t.Input("token_ids", "int32", {len});
  json seq = t.CallModel(backbone, json::array({json::array({t_pad, t_tok})}));
  json y = t.TokenAt("get_item", seq, 0);
  TaskGraph g;
  if (spec.dropout_before_pooler) {
    y = t.Call("Dropout", "pooled_dropout", {{"rate", task_dropout}},
               json::array({y}), {{"training", false}});
    g.head_layers.insert("pooled_dropout");
  }
  y = t.Call("Dense", "pooled_dense",
             {{"units", pooled_dim},
              {"activation", spec.pooler_activation},
              {"use_bias", true}},
             json::array({y}));
  y = t.Call("Dropout", "output_dropout", {{"rate", task_dropout}},
             json::array({y}), {{"training", false}});
  json activation = in.task.value("activation", json(nullptr));
  if (activation.is_null()) activation = "linear";
  y = t.Call("Dense", "logits",
             {{"units", classes}, {"activation", activation}, {"use_bias", true}},
             json::array({y}));
  g.model = t.Build({{"token_ids", t_tok}, {"padding_mask", t_pad}},
                    {{"logits", y}});
  g.backbone_layer = backbone_name;
  g.head_layers.insert({"get_item", "pooled_dense", "output_dropout", "logits"});
  return g;
}

}  // namespace

Result<TaskGraph> BuildDistilBertTextClassifier(const BuildInput& in) {
  return BuildEncoderClassifier(
      in, {"DistilBertBackbone", "DistilBertTextClassifier",
           "distil_bert_backbone", "token_and_position_embedding", 1e-12,
           /*dropout_before_pooler=*/false, "relu", 0.2});
}

Result<TaskGraph> BuildRobertaTextClassifier(const BuildInput& in) {
  return BuildEncoderClassifier(
      in, {"RobertaBackbone", "RobertaTextClassifier", "roberta_backbone",
           "embeddings", 1e-5, /*dropout_before_pooler=*/true, "tanh", 0.0});
}

}  // namespace k2l::hub
