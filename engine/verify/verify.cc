#include "engine/verify/verify.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/torch_status.h"

namespace videogen::verify {
namespace {

absl::StatusOr<TensorMap> Dispatch(const Fixture& f, const RunOptions& options) {
  const std::string& c = f.component;
  if (c == "dit" || c == "dit22" || c == "dit_lora") return RunDitFixture(f, options);
  if (c == "t5_encoder") return RunT5Fixture(f, options);
  if (c == "tokenizer") return RunTokenizerFixture(f, options);
  if (c == "clip_visual") return RunClipFixture(f, options);
  if (c == "vae_encode" || c == "vae22_encode") return RunVaeEncodeFixture(f, options);
  if (c == "vae_decode" || c == "vae22_decode") return RunVaeDecodeFixture(f, options);
  if (c.rfind("scheduler_", 0) == 0) return RunSchedulerFixture(f, options);
  if (c.rfind("pipeline_", 0) == 0) return RunPipelineFixture(f, options);
  return absl::InvalidArgumentError(absl::StrCat("unknown component '", c, "'"));
}

}  // namespace

FixtureResult VerifyFixture(const std::string& dir, const RunOptions& options) {
  FixtureResult r;
  r.name = dir;
  auto fixture = LoadFixture(dir);
  if (!fixture.ok()) {
    r.error = std::string(fixture.status().message());
    return r;
  }
  r.name = fixture->name;
  auto outputs = TorchCall(absl::StrCat("running ", r.name), [&] { return Dispatch(*fixture, options); });
  if (!outputs.ok()) {
    r.error = outputs.status().ToString();
    return r;
  }
  r.tensors = CompareOutputs(*fixture, *outputs);
  if (options.weight_dtype != WeightDType::kFp32) r.judgement = Judgement::kFp8Goal;
  if (options.weight_dtype == WeightDType::kBf16) r.precision = "BF16";
  r.pass = true;
  for (const TensorComparison& c : r.tensors) {
    r.pass = r.pass && (r.judgement == Judgement::kFp8Goal ? c.problem.empty() && c.rel_l2 <= kFp8RelL2Goal : c.pass);
    r.worst_rel_l2 = std::max(r.worst_rel_l2, c.rel_l2);
    r.worst_max_abs = std::max(r.worst_max_abs, c.max_abs);
  }
  return r;
}

std::string FormatResult(const FixtureResult& r) {
  if (!r.error.empty()) return absl::StrCat("FAIL ", r.name, " error: ", r.error);
  if (r.judgement == Judgement::kFp8Goal) {
    std::string line = absl::StrCat(r.precision, " ", r.name);
    for (const TensorComparison& c : r.tensors) {
      absl::StrAppend(&line, " ", c.name);
      if (!c.problem.empty()) absl::StrAppend(&line, " (", c.problem, ")");
      absl::StrAppend(&line, absl::StrFormat(" rel_l2=%.3g max_abs=%.3g;", c.rel_l2, c.max_abs));
    }
    absl::StrAppend(&line, r.pass ? " within" : " OVER", absl::StrFormat(" goal rel_l2<=%g", kFp8RelL2Goal));
    return line;
  }
  if (r.pass) return absl::StrFormat("PASS %s worst_rel_l2=%.3g worst_max_abs=%.3g", r.name, r.worst_rel_l2, r.worst_max_abs);
  std::string line = absl::StrCat("FAIL ", r.name);
  for (const TensorComparison& c : r.tensors) {
    if (c.pass) continue;
    absl::StrAppend(&line, " ", c.name);
    if (!c.problem.empty()) absl::StrAppend(&line, " (", c.problem, ")");
    absl::StrAppend(&line, absl::StrFormat(" max_abs=%.3g rel_l2=%.3g;", c.max_abs, c.rel_l2));
  }
  return line;
}

Outcome Judge(const FixtureResult& result, const PendingList& pending) {
  const bool listed = pending.count(result.name) != 0;
  if (result.pass) return listed ? Outcome::kUnexpectedPass : Outcome::kPass;
  return listed ? Outcome::kPending : Outcome::kFail;
}

std::string FormatOutcome(const FixtureResult& result, Outcome outcome, const PendingList& pending) {
  switch (outcome) {
    case Outcome::kPass:
    case Outcome::kFail:
      return FormatResult(result);
    case Outcome::kPending:
      return absl::StrCat("PENDING ", result.name, " (", pending.at(result.name), "): ", FormatResult(result));
    case Outcome::kUnexpectedPass:
      return absl::StrCat("FAIL ", result.name, ": passes but is listed as pending (", pending.at(result.name),
                          "); remove it from the pending list");
  }
  return FormatResult(result);
}

}  // namespace videogen::verify
