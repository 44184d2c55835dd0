// videogen-server: the gRPC video generation service. See --help.
#include <fcntl.h>
#include <prometheus/registry.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/blas_kernels.h"
#include "engine/common/huge_page_allocator.h"
#include "engine/common/runtime.h"
#include "engine/common/status_macros.h"
#include "server/exe/fake_models.h"
#include "server/exe/model_factory.h"
#include "server/log/log.h"
#include "server/metrics/metrics_exposer.h"
#include "server/metrics/server_metrics.h"
#include "server/service/server.h"

namespace {

using videogen::logging::LogEvent;
using videogen::service::VideoGenServer;

// Exit codes.
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// The value that turns persistence off (--state-dir none).
constexpr char kNoStateDir[] = "none";

// $VIDEOGEN_STATE_DIR, else $XDG_STATE_HOME/videogen, else
// $HOME/.local/state/videogen; with none of them set (a bare daemon
// environment, e.g. `env -i`) nothing persists: kNoStateDir.
std::string DefaultStateDir() {
  if (const char* env = std::getenv("VIDEOGEN_STATE_DIR"); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/videogen");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/.local/state/videogen");
  }
  return kNoStateDir;
}

std::string EnvOr(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The job store DSN from --job-store-file (its first line; e.g. a mounted
// Kubernetes Secret) or --job-store / $VIDEOGEN_JOB_STORE. Empty: none.
// InvalidArgument naming the flag for an unreadable file or a value that is
// not a postgres:// or postgresql:// URI (the value itself is never echoed:
// it may hold a password).
absl::StatusOr<std::string> JobStoreDsn(const std::string& flag_value, const std::string& file) {
  std::string dsn = flag_value;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in || !std::getline(in, dsn)) {
      return absl::InvalidArgumentError(absl::StrCat("job-store-file: cannot read ", file));
    }
    while (!dsn.empty() && (dsn.back() == '\r' || dsn.back() == ' ')) dsn.pop_back();
  }
  if (dsn.empty()) return dsn;
  if (!absl::StartsWith(dsn, "postgres://") && !absl::StartsWith(dsn, "postgresql://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.empty() ? "job-store" : "job-store-file", ": must be a postgres:// or postgresql:// URI"));
  }
  return dsn;
}

// What the command line sets; the fields without a counterpart in the options
// structs are converted by ApplyFlags().
struct Flags {
  videogen::service::ServerOptions server;
  videogen::server::ModelFlags model;
  std::string model_name = "tiny";  // --model, parsed into model.model
  std::string metrics_listen = "127.0.0.1:9090";  // loopback unless told (the images: 0.0.0.0)
  std::string devices = "cpu";
  double drain_timeout_s = 60;
  double retention_ttl_s = 3600;
  double fake_step_ms = 0;
  uint64_t retention_bytes = server.jobs.retention.max_bytes;
  size_t max_queue = server.jobs.max_queue;
  uint64_t retention_jobs = server.jobs.retention.max_jobs;
  std::string state_dir = DefaultStateDir();
  std::string job_store = EnvOr("VIDEOGEN_JOB_STORE");
  std::string job_store_file = EnvOr("VIDEOGEN_JOB_STORE_FILE");
  double job_lease_s = 30;
  std::string test_decode_gate;  // --test-decode-gate
};

std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

// Prints `status` as the reason the server cannot run; returns `exit_code`.
int Fail(const absl::Status& status, int exit_code) {
  std::cerr << "videogen-server: " << status << "\n";
  return exit_code;
}

void AddFlags(CLI::App& app, Flags& f) {
  videogen::service::ServerOptions& options = f.server;
  app.add_option("--listen", options.listen, "gRPC address HOST:PORT (port 0: any free port)")->capture_default_str();
  app.add_option("--metrics-listen", f.metrics_listen, "Prometheus /metrics address HOST:PORT")->capture_default_str();
  app.add_option("--model", f.model_name,
                 absl::StrCat("Model: tiny (embedded i2v), tiny-t2v, tiny-flf2v, tiny-ti2v (Wan2.2 TI2V), "
                              "tiny-t2v-a14b, tiny-i2v-a14b (Wan2.2 expert pairs)",
                              videogen::server::FakeModelsBuiltIn() ? ". Test only: fake, fake-i2v" : ""))
      ->capture_default_str();
  app.add_option("--model-dir", f.model.model_dir, "Load the model from this directory instead of --model");
  app.add_option("--devices", f.devices, "Comma-separated devices, one worker each: cpu or cuda:0,cuda:1")
      ->capture_default_str();
  app.add_option("--max-queue", f.max_queue, "Jobs that may wait in the queue")->capture_default_str();
  app.add_option("--retention-ttl", f.retention_ttl_s, "Seconds a finished job is kept for WatchJob/GetJob")
      ->capture_default_str();
  app.add_option("--retention-bytes", f.retention_bytes, "Total bytes finished jobs hold, videos and decoded inputs (oldest evicted first)")
      ->capture_default_str();
  app.add_option("--retention-jobs", f.retention_jobs, "Most jobs kept (oldest finished evicted first)")
      ->capture_default_str();
  app.add_option("--state-dir", f.state_dir,
                 "Directory where jobs, results and idempotency keys persist across crashes and restarts (SQLite "
                 "and video files; one server per directory). 'none': memory only. Default: $VIDEOGEN_STATE_DIR, "
                 "else $XDG_STATE_HOME/videogen, else $HOME/.local/state/videogen, else none")
      ->capture_default_str();
  app.add_option("--job-store", f.job_store,
                 "Share jobs, their queue and results with every server on this PostgreSQL database "
                 "(postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?...]; the password may also come from PGPASSWORD or "
                 "~/.pgpass). --state-dir is then unused. Default: $VIDEOGEN_JOB_STORE");
  app.add_option("--job-store-file", f.job_store_file,
                 "File whose first line is the --job-store URI (e.g. a mounted Kubernetes Secret). Default: "
                 "$VIDEOGEN_JOB_STORE_FILE");
  app.add_option("--job-lease", f.job_lease_s,
                 "With --job-store: seconds a worker's claim on a job lasts without renewal (renewed every third "
                 "of it); a dead server's job runs again elsewhere after this")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--replica-id", f.server.replica_id,
                 "With --job-store: this server's name in the fleet, unique among the live servers (default: "
                 "$VIDEOGEN_REPLICA_ID, else HOSTNAME-PID-RANDOM)");
  app.add_option("--max-job-crashes", f.server.max_job_crashes,
                 "A job that was running each of this many times the server died fails with INTERNAL instead of "
                 "running again after a restart")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--drain-timeout", f.drain_timeout_s,
                 "Seconds running jobs may finish after SIGTERM/SIGINT (a second signal ends the drain at once: "
                 "the jobs still running fail UNAVAILABLE)")
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls.cert_file, "PEM certificate chain (enables TLS)");
  app.add_option("--tls-key", options.tls.key_file, "PEM private key for --tls-cert");
  app.add_option("--tls-client-ca", options.tls.client_ca_file, "PEM CA bundle: require client certificates (mTLS)");
  app.add_option("--auth-token-file", options.auth_token_file,
                 "File whose first line is the bearer token every RPC but health must carry");
  app.add_flag("--reflection,!--no-reflection", options.reflection,
               "Serve gRPC server reflection (unauthenticated, like health)")
      ->capture_default_str();
  app.add_option("--max-request-bytes", options.max_request_bytes, "Largest request message")->capture_default_str();
  app.add_option("--grpc-memory-bytes", options.grpc_memory_bytes,
                 "Memory gRPC may hold for all connections (requests being received included); 0: 4 x "
                 "--max-request-bytes")
      ->capture_default_str();
  app.add_option("--max-prompt-bytes", options.limits.max_prompt_bytes, "Longest prompt")->capture_default_str();
  app.add_option("--max-size", options.limits.max_width, "Largest width and height (multiples of 16)")
      ->capture_default_str();
  app.add_option("--max-frames", options.limits.max_frames, "Most frames (4n+1)")->capture_default_str();
  app.add_option("--max-steps", options.limits.max_steps, "Most denoising steps")->capture_default_str();
  app.add_option("--max-image-pixels", options.limits.max_image_pixels, "Largest input image (header checked)")
      ->capture_default_str();
  app.add_option("--placement", f.model.placement,
                 "Component placement overriding the memory plan, e.g. dit=cuda:0:fp8,t5=cpu:bf16,clip=cuda:0:fp16,"
                 "vae=cuda:0:fp32");
  app.add_option("--lora", f.model.loras,
                 "LoRA file merged into the DiT at load, PATH[:STRENGTH] (default strength 1); repeatable, applied "
                 "in order (ComfyUI/lightx2v, kohya/musubi and diffusers/PEFT key conventions). Wan2.2 A14B: into "
                 "the high-noise expert");
  app.add_option("--lora-low-noise", f.model.loras_low_noise,
                 "Wan2.2 A14B: LoRA file merged into the low-noise expert, PATH[:STRENGTH]; repeatable");
  app.add_option("--adapter", f.model.adapters,
                 "LoRA loaded at start for per-request use, NAME=PATH; requests select it by name (the CLI's "
                 "--lora NAME[:STRENGTH]) and it runs beside the base weights (low-rank pairs only); repeatable");
  app.add_option("--gpu-memory", f.model.gpu_memory, "GPU memory budget per device, e.g. 24GiB (default: free memory)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--host-memory", f.model.host_memory, "Host memory budget, e.g. 32GiB (default: MemTotal / cgroup)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--fake-fail-prompt", f.model.fake_fail_prompt,
                 "Test only (--model fake*): jobs with exactly this prompt fail with INTERNAL");
  app.add_option("--fake-step-ms", f.fake_step_ms, "Test only (--model fake*): milliseconds per denoising step");
  app.add_option("--decode-threads", f.server.decode.threads,
                 "Threads that decode request images (and submit their jobs) off gRPC's threads")
      ->capture_default_str();
  app.add_option("--decode-queue", f.server.decode.max_tasks,
                 "Requests with images admitted for decoding at once (running + waiting); beyond: RESOURCE_EXHAUSTED")
      ->capture_default_str();
  app.add_option("--test-decode-gate", f.test_decode_gate,
                 "Test only: a FIFO each image decode opens and reads one byte from before it starts");
}

// The --test-decode-gate hook: blocks until a writer opened `fifo` (so the
// writer knows a decode is held) and wrote a byte or closed it.
void WaitAtGate(const std::string& fifo) {
  const int fd = open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char byte;
  while (read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
  close(fd);
}

void ApplyFlags(Flags& f) {
  if (!f.test_decode_gate.empty()) f.server.decode.before_task = [fifo = f.test_decode_gate] { WaitAtGate(fifo); };
  f.server.limits.max_height = f.server.limits.max_width;
  f.server.jobs.max_queue = f.max_queue;
  f.server.jobs.retention.ttl = absl::Seconds(f.retention_ttl_s);
  f.server.jobs.retention.max_bytes = f.retention_bytes;
  f.server.jobs.retention.max_jobs = f.retention_jobs;
  f.server.state_dir = f.state_dir == kNoStateDir ? std::string() : f.state_dir;
  f.server.job_lease = absl::Seconds(f.job_lease_s);
  f.model.fake_step_time = absl::Milliseconds(f.fake_step_ms);
}

// Blocks SIGTERM and SIGINT in this thread (and so in every thread started
// later) and returns them as the set WaitForTermination() takes.
sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// One worker device per name ("cpu", "cuda", "cuda:N"), each with its
// generator loaded. InvalidArgument("devices: ...") for another name; errors
// of CreateGenerator().
absl::StatusOr<std::vector<videogen::jobs::Device>> CreateDevices(const videogen::server::ModelFlags& model,
                                                                  const std::vector<std::string>& names) {
  std::vector<videogen::jobs::Device> devices;
  for (const std::string& name : names) {
    const std::optional<videogen::Device> device = videogen::ParseDevice(name);
    if (!device) {
      return absl::InvalidArgumentError(absl::StrCat("devices: '", name, "' is not cpu, cuda or cuda:N"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<videogen::pipeline::VideoGenerator> generator,
                     videogen::server::CreateGenerator(model, name));
    devices.push_back(videogen::jobs::Device{*device, std::move(generator)});
  }
  return devices;
}

// The lines scripts and tests wait for (stdout), and the `started` log event.
// Whether HOST (as --listen spells it) is a loopback address.
bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || absl::StartsWith(host, "127.");
}

// The huge page allocator's state for the `started` event: the kernel's THP
// mode when installed ("madvise" and "always" give huge pages), else "off".
std::string HugePagesLogValue() {
  if (!videogen::HugePageAllocatorInstalled()) return "off";
  const std::string mode = videogen::TransparentHugePageMode();
  return mode.empty() ? "unknown" : mode;
}

void AnnounceStarted(const Flags& f, VideoGenServer& server, const videogen::metrics::MetricsExposer& exposer) {
  std::printf("videogen-server: listening on %s:%d\n", HostOf(f.server.listen).c_str(), server.port());
  std::printf("videogen-server: metrics on %s:%d\n", HostOf(f.metrics_listen).c_str(), exposer.port());
  std::fflush(stdout);
  const videogen::BlasKernelChoice blas = videogen::CurrentBlasKernelChoice();
  LogEvent("started", {{"port", absl::StrCat(server.port())},
                       {"metrics_port", absl::StrCat(exposer.port())},
                       {"model", server.jobs().model().id},
                       {"devices", f.devices},
                       {"blas_kernels", blas.name.empty() ? "default" : blas.name},
                       {"blis_arch_type", blas.value},
                       {"blis_threads", EnvOr("BLIS_NUM_THREADS")},  // set by ConfigureTorchRuntime
                       {"heap_reuse", videogen::HeapReuseInForce() ? "on" : "off"},
                       {"huge_pages", HugePagesLogValue()},
                       {"state_dir", f.server.state_dir.empty() ? kNoStateDir : f.server.state_dir},
                       {"job_store", f.server.job_store.empty() ? "local" : "postgres"}});
  // Beyond loopback, say what an attacker on the network meets (README, "Security").
  if (!IsLoopback(HostOf(f.server.listen))) {
    if (f.server.auth_token_file.empty()) {
      LogEvent("security_warning", {{"listen", f.server.listen},
                                    {"problem", "no --auth-token-file: anyone who reaches the port can submit jobs"}});
    } else if (f.server.tls.cert_file.empty()) {
      LogEvent("security_warning", {{"listen", f.server.listen},
                                    {"problem", "no --tls-cert: the bearer token crosses the network in clear text"}});
    }
  }
}

// Waits for one of the blocked `signals` and logs it.
void WaitForTermination(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogEvent("signal", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
}

// During a drain: calls `on_signal` once if another of the blocked `signals`
// arrives (read through a signalfd on a thread this object owns). The
// destructor stops and joins the thread.
class SecondSignalWatch {
 public:
  SecondSignalWatch(const sigset_t& signals, std::function<void()> on_signal)
      : signal_fd_(signalfd(-1, &signals, SFD_CLOEXEC)), stop_fd_(eventfd(0, EFD_CLOEXEC)) {
    if (signal_fd_ < 0 || stop_fd_ < 0) {
      LogEvent("second_signal_watch_failed", {{"error", "signalfd/eventfd"}});
      return;
    }
    thread_ = std::thread([this, on_signal = std::move(on_signal)] {
      pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      while (poll(fds, 2, -1) < 0) {
      }
      if ((fds[1].revents & POLLIN) != 0) return;
      signalfd_siginfo info{};
      if (read(signal_fd_, &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info))) return;
      LogEvent("signal", {{"signal", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"}, {"during", "drain"}});
      on_signal();
    });
  }
  ~SecondSignalWatch() {
    if (thread_.joinable()) {
      const uint64_t one = 1;
      (void)!write(stop_fd_, &one, sizeof(one));
      thread_.join();
    }
    if (signal_fd_ >= 0) close(signal_fd_);
    if (stop_fd_ >= 0) close(stop_fd_);
  }

 private:
  const int signal_fd_;
  const int stop_fd_;
  std::thread thread_;
};

// Serves `devices` with the service and the /metrics exposer until
// SIGTERM/SIGINT, then drains (until a second SIGTERM/SIGINT at most). Returns the process's exit code.
int Serve(const Flags& f, std::vector<videogen::jobs::Device> devices, const sigset_t& signals) {
  auto registry = std::make_shared<prometheus::Registry>();
  videogen::metrics::ServerMetrics metrics(*registry);
  auto server = VideoGenServer::Create(f.server, std::move(devices), &metrics);
  if (!server.ok()) return Fail(server.status(), absl::IsInvalidArgument(server.status()) ? kExitUsage : kExitError);
  VideoGenServer* srv = server->get();
  metrics.SetModel(srv->jobs().model());
  auto exposer = videogen::metrics::MetricsExposer::Create(
      f.metrics_listen, registry, [&metrics, srv] {
        metrics.UpdateDeviceMemory(srv->jobs().DeviceMemory());
        metrics.UpdateResidentNow(srv->jobs().model().id, srv->jobs().ResidentNow());
      });
  if (!exposer.ok()) return Fail(exposer.status(), kExitError);
  AnnounceStarted(f, *srv, **exposer);

  WaitForTermination(signals);
  {
    // A second SIGTERM/SIGINT ends the drain at once: jobs fail UNAVAILABLE.
    SecondSignalWatch second(signals, [srv] { srv->jobs().AbortDrain(); });
    srv->Shutdown(absl::Seconds(f.drain_timeout_s));
  }
  exposer->reset();
  server->reset();
  LogEvent("stopped");
  return 0;
}

int Run(int argc, char** argv) {
  Flags flags;
  CLI::App app{"videogen-server: Wan2.1 video generation over gRPC"};
  AddFlags(app, flags);
  CLI11_PARSE(app, argc, argv);
  ApplyFlags(flags);
  if (flags.server.replica_id.empty()) flags.server.replica_id = EnvOr("VIDEOGEN_REPLICA_ID");
  absl::StatusOr<std::string> dsn = JobStoreDsn(flags.job_store, flags.job_store_file);
  if (!dsn.ok()) return Fail(dsn.status(), kExitUsage);
  flags.server.job_store = *std::move(dsn);
  if (!flags.server.job_store.empty()) flags.server.state_dir.clear();  // the jobs live in PostgreSQL

  // SIGTERM/SIGINT are taken by sigwait(); block them before any thread starts.
  const sigset_t signals = BlockTerminationSignals();
  // Threads for the usable cores, TF32 off, freed host blocks reused
  // (runtime.h): after the signals are blocked (LibTorch may start threads
  // here, which inherit the mask) and before any other thread allocates.
  if (absl::Status s = videogen::ConfigureTorchRuntime({}); !s.ok()) return Fail(s, 1);
  const std::vector<std::string> device_names = absl::StrSplit(flags.devices, ',', absl::SkipEmpty());
  if (device_names.empty()) {
    std::cerr << "videogen-server: devices: at least one device is required\n";
    return kExitUsage;
  }
  if (flags.model.model_dir.empty()) {  // --model-dir overrides --model
    absl::StatusOr<videogen::server::BuiltInModel> model = videogen::server::ParseBuiltInModel(flags.model_name);
    if (!model.ok()) return Fail(model.status(), kExitUsage);
    flags.model.model = *model;
  }
  absl::StatusOr<std::vector<videogen::jobs::Device>> devices = CreateDevices(flags.model, device_names);
  if (!devices.ok()) return Fail(devices.status(), kExitUsage);
  return Serve(flags, *std::move(devices), signals);
}

}  // namespace

int main(int argc, char** argv) {
  videogen::ApplyBlasKernelChoice();  // first: BLIS reads BLIS_ARCH_TYPE once, at its first use
  return Run(argc, argv);
}
