#include "engine/common/blas_kernel_probe.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "engine/common/runtime.h"

namespace videogen {
namespace {

using SgemmFn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);

// Triggers BLIS's start-up (which reads BLIS_ARCH_TYPE and, with
// BLIS_ARCH_DEBUG=1, prints its pick on stderr) through an empty sgemm_ that
// runs no kernel, and returns the sub-configuration named. "" when the BLAS
// is not BLIS. BLIS aborts here when the id names no kernel set it has.
// fd of the captured start-up stderr and the probe id, for OnAbort().
int g_capture_fd = -1;
int g_probe_id = -1;

// BLIS aborts on an id it has no kernel set for; "Invalid architecture id
// value" means the id is past its last one, so larger ids need no probe.
void OnAbort(int) {
  static char text[4096];
  ssize_t n = 0;
  if (g_capture_fd >= 0 && lseek(g_capture_fd, 0, SEEK_SET) == 0) n = read(g_capture_fd, text, sizeof text - 1);
  const bool past_end = n > 0 && memmem(text, n, "Invalid architecture id", 23) != nullptr;
  char line[96];
  const int len = std::snprintf(line, sizeof line, "probe id=%d outcome=invalid past_end=%d\n", g_probe_id, past_end);
  if (len > 0) (void)!write(1, line, len);
  _exit(134);
}

std::string SelectedSubConfiguration() {
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  if (sgemm == nullptr) return "";
  std::fflush(stderr);
  FILE* capture = std::tmpfile();
  const int saved = dup(2);
  if (capture == nullptr || saved < 0) return "";
  dup2(fileno(capture), 2);
  g_capture_fd = fileno(capture);
  signal(SIGABRT, OnAbort);
  const int zero = 0, one_i = 1;
  const float one = 1, beta = 0;
  float a = 0, b = 0, c = 0;
  sgemm("N", "N", &zero, &zero, &zero, &one, &a, &one_i, &b, &one_i, &beta, &c, &one_i);
  std::fflush(stderr);
  signal(SIGABRT, SIG_DFL);
  g_capture_fd = -1;
  dup2(saved, 2);
  close(saved);
  std::rewind(capture);
  std::string text;
  for (int ch; (ch = std::fgetc(capture)) != EOF;) text.push_back(static_cast<char>(ch));
  std::fclose(capture);
  const std::string marker = "sub-configuration '";
  const size_t at = text.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size(), end = text.find('\'', start);
  return end == std::string::npos ? "" : text.substr(start, end - start);
}

// Worst |C - ref| / sum_k |A_ik||B_kj| of at::mm(op(A), op(B)) against a
// double-precision loop, over shapes and transpositions that reach the edge
// cases of the micro-kernels.
double GemmError() {
  double worst = 0;
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> shapes = {{333, 257, 190}, {64, 1024, 7}, {1, 300, 513}};
  for (const auto& [m, k, n] : shapes) {
    for (int trans = 0; trans < 4; ++trans) {
      const at::Tensor a = (trans & 1) ? at::randn({k, m}).t() : at::randn({m, k});
      const at::Tensor b = (trans & 2) ? at::randn({n, k}).t() : at::randn({k, n});
      const at::Tensor c = at::mm(a, b).contiguous();
      const at::Tensor ad = a.to(at::kDouble).contiguous(), bd = b.to(at::kDouble).contiguous();
      const auto A = ad.accessor<double, 2>(), B = bd.accessor<double, 2>();
      const auto C = c.accessor<float, 2>();
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double ref = 0, scale = 0;
          for (int64_t p = 0; p < k; ++p) {
            ref += A[i][p] * B[p][j];
            scale += std::abs(A[i][p] * B[p][j]);
          }
          const double err = std::abs(C[i][j] - ref) / std::max(scale, 1e-30);
          worst = std::max(worst, std::isfinite(err) ? err : INFINITY);
        }
      }
    }
  }
  return worst;
}

}  // namespace

const char* OutcomeName(BlasProbeResult::Outcome outcome) {
  switch (outcome) {
    case BlasProbeResult::Outcome::kOk: return "ok";
    case BlasProbeResult::Outcome::kInvalid: return "invalid";
    case BlasProbeResult::Outcome::kUnsupported: return "unsupported";
    case BlasProbeResult::Outcome::kCrashed: return "crashed";
    case BlasProbeResult::Outcome::kWrong: return "wrong";
    case BlasProbeResult::Outcome::kNotBlis: return "not-blis";
  }
  return "?";
}

int RunBlasProbe(int id, int threads) {
  alarm(120);  // a hung probe dies of SIGALRM and counts as crashed
  setenv("BLIS_ARCH_TYPE", std::to_string(id).c_str(), 1);
  setenv("BLIS_ARCH_DEBUG", "1", 1);
  const int blas_threads = ApplyBlasThreads(threads);  // before BLIS starts
  g_probe_id = id;
  const std::string name = SelectedSubConfiguration();
  if (name.empty()) {
    std::printf("probe id=%d outcome=not-blis\n", id);
    return 0;
  }
  std::printf("selected id=%d name=%s\n", id, name.c_str());
  std::fflush(stdout);
  if (!CpuAllowsBlisKernelSet(name, CpuFlags())) {
    std::printf("probe id=%d name=%s outcome=unsupported\n", id, name.c_str());
    return 0;
  }
  if (!ConfigureTorchRuntime({.threads = threads}).ok()) return 2;
  at::manual_seed(0);
  const double error = GemmError();
  if (!(error < 1e-4)) {
    std::printf("probe id=%d name=%s outcome=wrong max_error=%g\n", id, name.c_str(), error);
    return 0;
  }
  const double gflops = MeasureMatmulGflops(1024, 5);
  std::printf("probe id=%d name=%s outcome=ok gflops=%.1f threads=%d max_error=%g\n", id, name.c_str(), gflops,
              blas_threads, error);
  return 0;
}

std::vector<BlasProbeResult> ProbeBlasKernelSets(const std::string& self_exe, int threads, int max_id) {
  static const std::map<std::string, BlasProbeResult::Outcome> kOutcomes = {
      {"ok", BlasProbeResult::Outcome::kOk},
      {"unsupported", BlasProbeResult::Outcome::kUnsupported},
      {"wrong", BlasProbeResult::Outcome::kWrong},
      {"not-blis", BlasProbeResult::Outcome::kNotBlis},
      {"invalid", BlasProbeResult::Outcome::kInvalid}};
  std::vector<BlasProbeResult> results;
  for (int id = 0; id <= max_id; ++id) {
    const std::string cmd = absl::StrCat("'", self_exe, "' --probe ", id, " --threads ", threads, " 2>/dev/null");
    BlasProbeResult r;
    r.id = id;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) continue;
    bool final_line = false, past_end = false;
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
      std::istringstream line(buf);
      std::string word;
      line >> word;
      const bool is_probe = word == "probe";
      if (!is_probe && word != "selected") continue;
      while (line >> word) {
        const size_t eq = word.find('=');
        if (eq == std::string::npos) continue;
        const std::string k = word.substr(0, eq), v = word.substr(eq + 1);
        if (k == "name") r.name = v;
        if (k == "gflops") r.gflops = std::atof(v.c_str());
        if (k == "threads") r.threads = std::atoi(v.c_str());
        if (k == "max_error") r.max_error = std::atof(v.c_str());
        if (k == "past_end") past_end = v == "1";
        if (k == "outcome" && kOutcomes.count(v)) r.outcome = kOutcomes.at(v), final_line = true;
      }
    }
    const int status = pclose(pipe);
    const bool signalled = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 128);
    if (!final_line) {
      // Died before its result: with no sub-configuration named, BLIS refused
      // the id (it aborts); after naming one, the kernels crashed.
      const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : WIFEXITED(status) ? WEXITSTATUS(status) - 128 : 0;
      r.outcome = r.name.empty() ? BlasProbeResult::Outcome::kInvalid : BlasProbeResult::Outcome::kCrashed;
      r.detail = signalled ? absl::StrCat("signal ", sig) : absl::StrCat("exit ", WEXITSTATUS(status));
    }
    results.push_back(r);
    if (r.outcome == BlasProbeResult::Outcome::kNotBlis || past_end) break;
  }
  return results;
}

absl::StatusOr<BlasKernelChoice> FastestBlasKernelSet(const std::vector<BlasProbeResult>& results) {
  const BlasProbeResult* best = nullptr;
  for (const BlasProbeResult& r : results) {
    if (r.outcome == BlasProbeResult::Outcome::kOk && (best == nullptr || r.gflops > best->gflops)) best = &r;
  }
  if (best == nullptr) return absl::NotFoundError("no BLIS kernel set ran correctly");
  BlasKernelChoice choice;
  choice.source = BlasKernelChoice::Source::kCache;
  choice.value = std::to_string(best->id);
  choice.name = best->name;
  choice.gflops = best->gflops;
  choice.threads = best->threads;
  return choice;
}

}  // namespace videogen
