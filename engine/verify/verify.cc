#include "engine/verify/verify.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include <torch/torch.h>

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

absl::StatusOr<TensorMap> Run(const Fixture& f, const RunOptions& options) {
  return TorchCall(absl::StrCat("running ", f.name), [&] { return Dispatch(f, options); });
}

// Judges `outputs` of `f` run with `options`.
FixtureResult Judged(const Fixture& fixture, const RunOptions& options, const absl::StatusOr<TensorMap>& outputs) {
  FixtureResult r;
  r.name = fixture.name;
  if (!outputs.ok()) {
    r.error = outputs.status().ToString();
    return r;
  }
  r.tensors = CompareOutputs(fixture, *outputs);
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

// Whether `actual` holds `reference`'s outputs bit for bit; else the largest
// absolute difference (infinity for a missing or reshaped output).
void CompareToNone(const TensorMap& reference, const TensorMap& actual, FixtureResult& r) {
  r.compared_to_none = true;
  r.identical_to_none = true;
  r.max_abs_vs_none = 0;
  for (const auto& [name, ref] : reference) {
    auto it = actual.find(name);
    if (it == actual.end() || it->second.sizes() != ref.sizes()) {
      r.identical_to_none = false;
      r.max_abs_vs_none = std::numeric_limits<double>::infinity();
      continue;
    }
    if (torch::equal(it->second, ref)) continue;
    r.identical_to_none = false;
    r.max_abs_vs_none = std::max(
        r.max_abs_vs_none, (it->second.to(torch::kDouble) - ref.to(torch::kDouble)).abs().max().item<double>());
  }
}

}  // namespace

FixtureResult VerifyFixture(const std::string& dir, const RunOptions& options) {
  auto fixture = LoadFixture(dir);
  if (!fixture.ok()) {
    FixtureResult r;
    r.name = dir;
    r.error = std::string(fixture.status().message());
    return r;
  }
  return Judged(*fixture, options, Run(*fixture, options));
}

std::vector<FixtureResult> VerifyFixtureOffload(const std::string& dir, const RunOptions& options,
                                                const std::vector<OffloadRun>& modes) {
  auto fixture = LoadFixture(dir);
  if (!fixture.ok() || fixture->component.rfind("pipeline_", 0) != 0) {
    RunOptions plain = options;
    plain.offload = OffloadRun::kNone;
    return {VerifyFixture(dir, plain)};
  }
  RunOptions none = options;
  none.offload = OffloadRun::kNone;
  const absl::StatusOr<TensorMap> reference = Run(*fixture, none);
  const bool expert_pair = fixture->WeightsPath("dit_low_noise").ok();
  std::vector<FixtureResult> results;
  for (OffloadRun mode : modes) {
    if (mode == OffloadRun::kExpertSwap && !expert_pair) continue;
    RunOptions run = options;
    run.offload = mode;
    const absl::StatusOr<TensorMap> outputs = mode == OffloadRun::kNone ? reference : Run(*fixture, run);
    FixtureResult r = Judged(*fixture, run, outputs);
    r.offload = OffloadRunName(mode);
    if (mode != OffloadRun::kNone && reference.ok() && outputs.ok()) {
      TorchCall("comparing to offload none", [&] { CompareToNone(*reference, *outputs, r); }).IgnoreError();
    }
    results.push_back(std::move(r));
  }
  return results;
}

namespace {

// FormatResult's offload suffix.
std::string OffloadSuffix(const FixtureResult& r) {
  if (r.offload.empty()) return "";
  std::string s = absl::StrCat(" [offload=", r.offload, "]");
  if (r.compared_to_none) {
    absl::StrAppend(&s, r.identical_to_none ? " bit-identical to none"
                                            : absl::StrFormat(" max_abs vs none=%.3g", r.max_abs_vs_none));
  }
  return s;
}

}  // namespace

namespace {

std::string FormatResultLine(const FixtureResult& r) {
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

}  // namespace

std::string FormatResult(const FixtureResult& r) { return FormatResultLine(r) + OffloadSuffix(r); }

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
