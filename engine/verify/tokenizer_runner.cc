// tokenizer fixtures: HuggingfaceTokenizer(spiece model, seq_len=config.text_len,
// clean=config.clean)(prompts) -> ids, mask.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/text/text_clean.h"
#include "engine/text/umt5_tokenizer.h"
#include "engine/verify/runners.h"

namespace videogen::verify {

absl::StatusOr<TensorMap> RunTokenizerFixture(const Fixture& fixture, const RunOptions&) {
  const nlohmann::json& config = fixture.meta.value("config", nlohmann::json::object());
  text::TokenizerOptions options;
  if (!config.contains("text_len") || !config["text_len"].is_number_integer()) {
    return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": config.text_len missing or not an integer"));
  }
  options.seq_len = config["text_len"].get<int>();
  const nlohmann::json& clean = config.value("clean", nlohmann::json());
  if (!clean.is_null() && !clean.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": config.clean must be a string or null"));
  }
  ASSIGN_OR_RETURN(options.clean, text::ParseTextClean(clean.is_string() ? clean.get<std::string>() : ""));

  const nlohmann::json& prompts_json = fixture.meta.value("prompts", nlohmann::json());
  if (!prompts_json.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": fixture.json has no 'prompts' list"));
  }
  std::vector<std::string> prompts;
  for (const nlohmann::json& p : prompts_json) {
    if (!p.is_string()) return absl::InvalidArgumentError(absl::StrCat(fixture.name, ": prompts must be strings"));
    prompts.push_back(p.get<std::string>());
  }

  ASSIGN_OR_RETURN(const std::string model_path, SpieceModelPath(fixture));
  ASSIGN_OR_RETURN(std::unique_ptr<text::UmT5Tokenizer> tokenizer, text::UmT5Tokenizer::Create(model_path, options));
  ASSIGN_OR_RETURN(text::TokenizedBatch batch, tokenizer->Encode(prompts));
  return TensorMap{{"ids", batch.ids}, {"mask", batch.mask}};
}

}  // namespace videogen::verify
