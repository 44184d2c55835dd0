// videogen-server: the gRPC video generation service. See --help.
#include <prometheus/registry.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/exe/model_factory.h"
#include "server/jobs/log.h"
#include "server/metrics/metrics_exposer.h"
#include "server/metrics/server_metrics.h"
#include "server/service/server.h"

namespace {

using videogen::jobs::LogEvent;

std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

int Run(int argc, char** argv) {
  videogen::service::ServerOptions options;
  videogen::server::ModelFlags model;
  std::string metrics_listen = "0.0.0.0:9090";
  std::string devices_flag = "cpu";
  double drain_timeout_s = 60;
  double retention_ttl_s = 3600;
  double fake_step_ms = 0;
  uint64_t retention_bytes = options.jobs.retention.max_bytes;
  size_t max_queue = options.jobs.max_queue;

  CLI::App app{"videogen-server: Wan2.1 video generation over gRPC"};
  app.add_option("--listen", options.listen, "gRPC address HOST:PORT (port 0: any free port)")->capture_default_str();
  app.add_option("--metrics-listen", metrics_listen, "Prometheus /metrics address HOST:PORT")->capture_default_str();
  app.add_option("--model", model.model, "Model: tiny (embedded i2v), tiny-t2v. Test only: fake, fake-i2v")
      ->capture_default_str();
  app.add_option("--model-dir", model.model_dir, "Load the model from this directory instead of --model");
  app.add_option("--devices", devices_flag, "Comma-separated devices, one worker each: cpu or cuda:0,cuda:1")
      ->capture_default_str();
  app.add_option("--max-queue", max_queue, "Jobs that may wait in the queue")->capture_default_str();
  app.add_option("--retention-ttl", retention_ttl_s, "Seconds a finished job is kept for WatchJob/GetJob")
      ->capture_default_str();
  app.add_option("--retention-bytes", retention_bytes, "Total bytes of finished videos kept (oldest evicted first)")
      ->capture_default_str();
  app.add_option("--drain-timeout", drain_timeout_s, "Seconds running jobs may finish after SIGTERM/SIGINT")
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
  app.add_option("--max-prompt-bytes", options.limits.max_prompt_bytes, "Longest prompt")->capture_default_str();
  app.add_option("--max-size", options.limits.max_width, "Largest width and height (multiples of 16)")
      ->capture_default_str();
  app.add_option("--max-frames", options.limits.max_frames, "Most frames (4n+1)")->capture_default_str();
  app.add_option("--max-steps", options.limits.max_steps, "Most denoising steps")->capture_default_str();
  app.add_option("--max-image-pixels", options.limits.max_image_pixels, "Largest input image (header checked)")
      ->capture_default_str();
  app.add_option("--placement", model.placement,
                 "Component placement overriding the memory plan, e.g. dit=cuda:0:fp8,t5=cpu:bf16,clip=cuda:0:fp16,"
                 "vae=cuda:0:fp32");
  app.add_option("--gpu-memory", model.gpu_memory, "GPU memory budget per device, e.g. 24GiB (default: free memory)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--host-memory", model.host_memory, "Host memory budget, e.g. 32GiB (default: MemTotal / cgroup)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--fake-fail-prompt", model.fake_fail_prompt,
                 "Test only (--model fake*): jobs with exactly this prompt fail with INTERNAL");
  app.add_option("--fake-step-ms", fake_step_ms, "Test only (--model fake*): milliseconds per denoising step");
  CLI11_PARSE(app, argc, argv);

  options.limits.max_height = options.limits.max_width;
  options.jobs.max_queue = max_queue;
  options.jobs.retention.ttl = absl::Seconds(retention_ttl_s);
  options.jobs.retention.max_bytes = retention_bytes;
  model.fake_step_time = absl::Milliseconds(fake_step_ms);

  // SIGTERM/SIGINT are taken by sigwait() below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<videogen::jobs::Device> devices;
  for (absl::string_view d : absl::StrSplit(devices_flag, ',', absl::SkipEmpty())) {
    auto generator = videogen::server::CreateGenerator(model, std::string(d));
    if (!generator.ok()) {
      std::cerr << "videogen-server: " << generator.status() << "\n";
      return 2;
    }
    devices.push_back(videogen::jobs::Device{std::string(d), *std::move(generator)});
  }
  if (devices.empty()) {
    std::cerr << "videogen-server: devices: at least one device is required\n";
    return 2;
  }

  auto registry = std::make_shared<prometheus::Registry>();
  videogen::metrics::ServerMetrics metrics(*registry);
  auto server = videogen::service::VideoGenServer::Create(options, std::move(devices), &metrics);
  if (!server.ok()) {
    std::cerr << "videogen-server: " << server.status() << "\n";
    return absl::IsInvalidArgument(server.status()) ? 2 : 1;
  }
  videogen::service::VideoGenServer* srv = server->get();
  metrics.SetModel(srv->jobs().model());
  auto exposer = videogen::metrics::MetricsExposer::Create(
      metrics_listen, registry, [&metrics, srv] { metrics.UpdateDeviceMemory(srv->jobs().DeviceMemory()); });
  if (!exposer.ok()) {
    std::cerr << "videogen-server: " << exposer.status() << "\n";
    return 1;
  }
  std::printf("videogen-server: listening on %s:%d\n", HostOf(options.listen).c_str(), srv->port());
  std::printf("videogen-server: metrics on %s:%d\n", HostOf(metrics_listen).c_str(), (*exposer)->port());
  std::fflush(stdout);
  LogEvent("started", {{"port", absl::StrCat(srv->port())},
                       {"metrics_port", absl::StrCat((*exposer)->port())},
                       {"model", srv->jobs().model().id},
                       {"devices", devices_flag}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogEvent("signal", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  srv->Shutdown(absl::Seconds(drain_timeout_s));
  exposer->reset();
  server->reset();
  LogEvent("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
