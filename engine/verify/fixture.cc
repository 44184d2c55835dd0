#include "engine/verify/fixture.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/common/torch_status.h"
#include "engine/io/safetensors.h"

namespace videogen::verify {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<TensorMap> ReadAll(const std::string& path) {
  ASSIGN_OR_RETURN(auto source, io::OpenSafetensors(path));
  TensorMap out;
  for (const io::TensorInfo& info : source->tensors()) {
    ASSIGN_OR_RETURN(torch::Tensor t, source->Read(info.name));
    out[info.name] = t.clone();
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Fixture::WeightsPath(const std::string& component) const {
  const nlohmann::json& w = meta.value("weights", nlohmann::json());
  std::string rel;
  if (component.empty() && w.is_string()) {
    rel = w.get<std::string>();
  } else if (w.is_object() && w.contains(component) && w[component].is_string()) {
    rel = w[component].get<std::string>();
  } else {
    return absl::NotFoundError(absl::StrCat(name, ": fixture.json has no weights",
                                            component.empty() ? "" : " for '" + component + "'"));
  }
  return (fs::path(dir) / rel).lexically_normal().string();
}

absl::StatusOr<torch::Tensor> Fixture::Input(const std::string& input) const {
  auto it = inputs.find(input);
  if (it == inputs.end()) return absl::NotFoundError(absl::StrCat(name, ": no input tensor '", input, "'"));
  return it->second;
}

std::vector<torch::Tensor> Fixture::InputList(const std::string& prefix) const {
  std::vector<torch::Tensor> list;
  for (int i = 0;; ++i) {
    auto it = inputs.find(absl::StrCat(prefix, "_", i));
    if (it == inputs.end()) break;
    list.push_back(it->second);
  }
  return list;
}

absl::StatusOr<Fixture> LoadFixture(const std::string& dir) {
  Fixture f;
  f.dir = dir;
  const fs::path json_path = fs::path(dir) / "fixture.json";
  std::ifstream in(json_path);
  if (!in) return absl::NotFoundError(absl::StrCat(json_path.string(), ": cannot open"));
  f.meta = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!f.meta.is_object() || !f.meta.contains("component") || !f.meta["component"].is_string()) {
    return absl::DataLossError(absl::StrCat(json_path.string(), ": not a fixture (no \"component\")"));
  }
  f.component = f.meta["component"].get<std::string>();
  f.name = f.meta.value("name", fs::path(dir).lexically_normal().filename().string());
  if (f.name.empty()) f.name = fs::path(dir).lexically_normal().parent_path().filename().string();
  if (f.meta.contains("inputs") && f.meta["inputs"].is_string()) {
    ASSIGN_OR_RETURN(f.inputs, ReadAll((fs::path(dir) / f.meta["inputs"].get<std::string>()).string()));
  }
  if (!f.meta.contains("outputs") || !f.meta["outputs"].is_string()) {
    return absl::DataLossError(absl::StrCat(json_path.string(), ": no \"outputs\" file"));
  }
  ASSIGN_OR_RETURN(f.expected, ReadAll((fs::path(dir) / f.meta["outputs"].get<std::string>()).string()));
  const nlohmann::json fallback = f.meta.value("tolerance", nlohmann::json::object());
  const nlohmann::json per = f.meta.value("tolerance_per_tensor", nlohmann::json::object());
  for (const auto& [out_name, tensor] : f.expected) {
    const nlohmann::json& t = per.contains(out_name) ? per[out_name] : fallback;
    Tolerance tol;
    tol.exact = t.value("exact", false) || !torch::isFloatingType(tensor.scalar_type());
    tol.max_abs = t.value("max_abs", 0.0);
    tol.rel_l2 = t.value("rel_l2", 0.0);
    f.tolerances[out_name] = tol;
  }
  return f;
}

// The model file: config.tokenizer_model, else a string `tokenizer_model` or
// `spiece_model` in config or at the top level; relative to the fixture dir.
absl::StatusOr<std::string> SpieceModelPath(const Fixture& f) {
  const nlohmann::json& config = f.meta.value("config", nlohmann::json::object());
  for (const nlohmann::json* obj : {&config, &f.meta}) {
    for (const char* key : {"tokenizer_model", "spiece_model"}) {
      if (obj->is_object() && obj->contains(key) && (*obj)[key].is_string()) {
        return (std::filesystem::path(f.dir) / (*obj)[key].get<std::string>()).lexically_normal().string();
      }
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(f.name, ": fixture.json names no tokenizer model (config.tokenizer_model)"));
}

std::vector<TensorComparison> CompareOutputs(const Fixture& fixture, const TensorMap& actual) {
  std::vector<TensorComparison> results;
  for (const auto& [name, expected] : fixture.expected) {
    TensorComparison c;
    c.name = name;
    const Tolerance& tol = fixture.tolerances.at(name);
    auto it = actual.find(name);
    if (it == actual.end()) {
      c.problem = "not produced";
    } else if (it->second.sizes() != expected.sizes()) {
      c.problem = absl::StrCat("shape ", c10::str(it->second.sizes()), " != expected ", c10::str(expected.sizes()));
    } else if (tol.exact) {
      const torch::Tensor a = it->second.to(torch::kCPU);
      const bool equal = a.scalar_type() == expected.scalar_type()
                             ? torch::equal(a, expected)
                             : torch::equal(a.to(torch::kFloat64), expected.to(torch::kFloat64));
      c.pass = equal;
      if (!equal) {
        c.max_abs = (a.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>();
        c.problem = "integer tensor differs";
      }
    } else {
      const torch::Tensor a = it->second.to(torch::kCPU, torch::kFloat64);
      const torch::Tensor b = expected.to(torch::kFloat64);
      const torch::Tensor diff = a - b;
      c.max_abs = diff.numel() ? diff.abs().max().item<double>() : 0.0;
      const double ref = b.norm().item<double>();
      const double err = diff.norm().item<double>();
      c.rel_l2 = ref > 0 ? err / ref : err;
      const bool finite = torch::isfinite(a).all().item<bool>() || !torch::isfinite(b).all().item<bool>();
      c.pass = finite && c.max_abs <= tol.max_abs && c.rel_l2 <= tol.rel_l2;
      if (!finite) c.problem = "non-finite values";
    }
    results.push_back(std::move(c));
  }
  return results;
}

absl::Status CheckSameOutputs(const TensorMap& reference, const TensorMap& actual, const std::string& path) {
  Fixture same;
  same.expected = reference;
  for (const auto& [name, tensor] : reference) same.tolerances[name].exact = true;
  for (const TensorComparison& c : CompareOutputs(same, actual)) {
    if (!c.pass) {
      return absl::DataLossError(absl::StrCat(path, ": output '", c.name, "' differs from the one of the fixture's ",
                                              "weights file (max_abs ", c.max_abs, c.problem.empty() ? "" : ", ",
                                              c.problem, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace videogen::verify
