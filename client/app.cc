#include "client/app.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/connection.h"
#include "client/exit_code.h"
#include "client/job_runner.h"
#include "client/progress.h"
#include "client/request.h"
#include "client/signal_watcher.h"
#include "client/video_assembler.h"
#include "engine/common/status_macros.h"

namespace videogen::client {
namespace {

constexpr char kExitCodes[] =
    "Exit codes:\n"
    "  0 ok   1 other error (local I/O, integrity check, unexpected server error)\n"
    "  2 usage / invalid argument   3 server unavailable or unreachable, timeout\n"
    "  4 job failed   5 cancelled   6 authentication / permission denied\n"
    "  130 second Ctrl-C (exited without waiting for the cancellation)\n"
    "Environment: VIDEOGEN_SERVER (default server), VIDEOGEN_TOKEN (bearer token), CI (plain progress)";

// What a SIGINT/SIGTERM does right now. Guarded by its own mutex; the signal
// thread reads it, the command installs and removes the runner.
class InterruptState {
 public:
  void Set(JobRunner* runner, std::string temp_path) {
    absl::MutexLock lock(&mu_);
    runner_ = runner;
    temp_path_ = std::move(temp_path);
  }
  void OnSignal() {
    absl::MutexLock lock(&mu_);
    if (runner_ != nullptr && runner_->RequestCancel()) return;
    if (!temp_path_.empty()) unlink(temp_path_.c_str());
    static const char kMessage[] = "videogen: interrupted again: exiting at once; the job may still be running (see videogen jobs)\n";
    if (write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1) < 0) {
      // Nothing more can be said.
    }
    _exit(ToInt(ExitCode::kInterrupted));
  }

 private:
  absl::Mutex mu_;
  JobRunner* runner_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string temp_path_ ABSL_GUARDED_BY(mu_);
};

struct GlobalFlags {
  ConnectionOptions connection;
  std::string token_file;
  double timeout_s = 0;
  bool json = false;
  bool quiet = false;
  int reattach_attempts = 5;
  int reattach_backoff_ms = 250;
};

struct Env {
  std::ostream* out;
  std::ostream* err;
  GlobalFlags* flags;
  std::unique_ptr<ProgressPrinter> printer;

  int Fail(ExitCode code, const std::string& message) {
    printer->OnError(ToInt(code), message);
    return ToInt(code);
  }
  int FailRpc(const grpc::Status& status) {
    const ExitCode code = ExitCodeForRpc(status.error_code());
    std::string message = absl::StrCat(StatusCodeName(status.error_code()), ": ", status.error_message());
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      message = absl::StrCat("cannot reach the server at ", flags->connection.server, " (", message, ")");
    }
    return Fail(code, message);
  }
};

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

const char* JobStateName(v1::JobState state) {
  switch (state) {
    case v1::QUEUED: return "queued";
    case v1::RUNNING: return "running";
    case v1::SUCCEEDED: return "succeeded";
    case v1::FAILED: return "failed";
    case v1::CANCELLED: return "cancelled";
    default: return "unknown";
  }
}

absl::StatusOr<std::unique_ptr<Connection>> Connect(GlobalFlags& flags) {
  const char* env_token = getenv("VIDEOGEN_TOKEN");
  ASSIGN_OR_RETURN(flags.connection.token, ResolveToken(flags.token_file, env_token));
  if (flags.timeout_s > 0) flags.connection.timeout = absl::Seconds(flags.timeout_s);
  return Connection::Create(flags.connection);
}

JobRunnerOptions RunnerOptions(const GlobalFlags& flags) {
  JobRunnerOptions options;
  options.max_reattach_attempts = flags.reattach_attempts;
  options.initial_backoff = absl::Milliseconds(flags.reattach_backoff_ms);
  options.timeout = flags.connection.timeout;
  return options;
}

// Picks the model when --model is not given: the first one of the type the
// request implies (flf2v with a last frame, i2v with an image, t2v without),
// else the first ti2v model (it takes both without a last frame), else the first one.
absl::StatusOr<std::string> DefaultModel(Connection& connection, const v1::GenerateVideoRequest& request,
                                         grpc::Status* rpc) {
  const char* type = !request.last_frame().empty() ? "flf2v" : !request.image().empty() ? "i2v" : "t2v";
  // A ti2v model takes both a text-only and an image request.
  const bool ti2v_fits = request.last_frame().empty();
  grpc::ClientContext context;
  connection.PrepareUnary(&context);
  v1::ListModelsResponse response;
  *rpc = connection.stub()->ListModels(&context, v1::ListModelsRequest(), &response);
  if (!rpc->ok()) return absl::UnavailableError("ListModels failed");
  if (response.models().empty()) return absl::FailedPreconditionError("model: the server serves no model");
  for (const v1::Model& m : response.models()) {
    if (m.type() == type) return m.id();
  }
  for (const v1::Model& m : response.models()) {
    if (ti2v_fits && m.type() == "ti2v") return m.id();
  }
  return response.models(0).id();
}

// Runs a job through the runner with Ctrl-C wired to cancellation; prints the outcome.
int FollowJob(Env& env, Connection& connection, InterruptState& interrupts, const std::string& output_path,
              const v1::GenerateVideoRequest* request, const std::string& job_id) {
  VideoAssemblerOptions assembler_options;
  assembler_options.output_path = output_path;
  absl::StatusOr<std::unique_ptr<VideoAssembler>> assembler = VideoAssembler::Create(assembler_options);
  if (!assembler.ok()) return env.Fail(ExitCode::kError, std::string(assembler.status().message()));
  const absl::Time start = absl::Now();
  JobOutcome outcome;
  {
    JobRunner runner(&connection, env.printer.get(), assembler->get(), RunnerOptions(*env.flags));
    interrupts.Set(&runner, (*assembler)->temp_path());
    outcome = request != nullptr ? runner.Generate(*request) : runner.Watch(job_id);
    interrupts.Set(nullptr, "");
  }
  if (outcome.exit_code != ExitCode::kOk) {
    std::string message = outcome.error;
    if (outcome.exit_code == ExitCode::kUnavailable && outcome.job_id.empty()) {
      message = absl::StrCat("cannot reach the server at ", env.flags->connection.server, " (", message, ")");
    } else if (!outcome.job_id.empty()) {
      message = absl::StrCat("job ", outcome.job_id, ": ", message);
    }
    return env.Fail(outcome.exit_code, message);
  }
  ResultSummary summary;
  summary.job_id = outcome.job_id;
  summary.path = output_path;
  summary.completed = *outcome.completed;
  summary.wall_time = absl::Now() - start;
  env.printer->OnResult(summary);
  return ToInt(ExitCode::kOk);
}

// `generate`: CLI11 fills the plain values below; Given() turns those whose
// flag was given into GenerateFlags' optionals.
struct GenerateCommand {
  CLI::App* command = nullptr;
  GenerateFlags flags;
  uint64_t max_area = 0, seed = 0;
  uint32_t frames = 0, steps = 0, quality = 0;
  double fps = 0, guidance = 0, shift = 0;
  std::string negative_prompt;
  CLI::Option* max_area_opt = nullptr;
  CLI::Option* frames_opt = nullptr;
  CLI::Option* fps_opt = nullptr;
  CLI::Option* steps_opt = nullptr;
  CLI::Option* guidance_opt = nullptr;
  CLI::Option* shift_opt = nullptr;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* negative_opt = nullptr;
  CLI::Option* quality_opt = nullptr;

  GenerateFlags Given() const {
    GenerateFlags given = flags;
    if (max_area_opt->count()) given.max_area = max_area;
    if (frames_opt->count()) given.frames = frames;
    if (fps_opt->count()) given.fps = fps;
    if (steps_opt->count()) given.steps = steps;
    if (guidance_opt->count()) given.guidance = guidance;
    if (shift_opt->count()) given.shift = shift;
    if (seed_opt->count()) given.seed = seed;
    if (negative_opt->count()) given.negative_prompt = negative_prompt;
    if (quality_opt->count()) given.quality = quality;
    return given;
  }
};

// The subcommands and their flags.
struct Commands {
  GenerateCommand generate;
  CLI::App* watch = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* jobs = nullptr;
  CLI::App* models = nullptr;
  CLI::App* health = nullptr;
  std::string job_id;        // watch, cancel
  std::string watch_output;  // watch -o
  uint32_t limit = 0;        // jobs --limit
  bool health_wait = false;  // health --wait
};

void AddGlobalFlags(CLI::App& app, GlobalFlags& flags) {
  app.add_option("--server", flags.connection.server, "Server address host:port")
      ->envname("VIDEOGEN_SERVER")
      ->capture_default_str();
  app.add_option("--token-file", flags.token_file,
                 "File whose first line is the bearer token (default: $VIDEOGEN_TOKEN)");
  app.add_flag("--tls", flags.connection.tls, "Use TLS with the system's root certificates");
  app.add_option("--tls-ca", flags.connection.tls_ca_file, "PEM roots that sign the server's certificate (implies TLS)");
  app.add_option("--tls-cert", flags.connection.tls_cert_file, "PEM client certificate for mutual TLS");
  app.add_option("--tls-key", flags.connection.tls_key_file, "PEM client key for mutual TLS");
  app.add_option("--timeout", flags.timeout_s,
                 "Seconds: deadline of each call; for generate/watch, of the whole job (default: 30 for "
                 "calls, none for jobs)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", flags.json, "Print events and results as JSON lines on stdout");
  app.add_flag("-q,--quiet", flags.quiet, "Plain progress lines for milestones only (no live bar, no per-step lines)");
  app.add_option("--reattach-attempts", flags.reattach_attempts,
                 "Re-attach attempts in a row after a dropped connection")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--reattach-backoff-ms", flags.reattach_backoff_ms,
                 "First re-attach backoff in milliseconds (doubles per attempt, at most 4 s)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

void AddGenerateCommand(CLI::App& app, GenerateCommand& g) {
  GenerateFlags& gen = g.flags;
  CLI::App* generate = app.add_subcommand("generate", "Generate a video and save it (-o)");
  g.command = generate;
  generate->add_option("-p,--prompt", gen.prompt, "Text prompt")->required();
  generate->add_option("-i,--image", gen.image_path, "Input image (PNG/JPEG/WebP) for image-to-video (the first frame for flf2v)");
  generate->add_option("--last-frame", gen.last_frame_path,
                       "Last frame (PNG/JPEG/WebP) for first-last-frame-to-video (flf2v models; 81 frames)");
  generate->add_option("-m,--model", gen.model, "Model id (see `videogen models`; default: the first of the right type)");
  CLI::Option* size_opt = generate->add_option("--size", gen.size, "Output size WIDTHxHEIGHT, e.g. 832x480");
  g.max_area_opt = generate->add_option("--max-area", g.max_area, "i2v: keep the image's aspect within this many pixels");
  size_opt->excludes(g.max_area_opt);
  g.frames_opt = generate->add_option("--frames", g.frames, "Number of frames (4n+1, e.g. 81)");
  g.fps_opt = generate->add_option("--fps", g.fps, "Frames per second of the output");
  g.steps_opt = generate->add_option("--steps", g.steps, "Denoising steps");
  g.guidance_opt = generate->add_option("--guidance", g.guidance, "Classifier-free guidance scale");
  g.shift_opt = generate->add_option("--shift", g.shift, "Flow-matching sigma shift");
  generate->add_option("--sampler", gen.sampler, "unipc, dpmpp, euler or step-distill (default: the model's)");
  generate->add_option("--lora", gen.loras,
                       "Per-request adapter NAME[:STRENGTH] loaded by the server (see `videogen models`); repeatable, "
                       "applied in order");
  generate->add_option("--timesteps", gen.timesteps,
                       "Few-step sampling with a step-distilled model or LoRA: explicit timesteps, e.g. "
                       "1000,750,500,250 (implies --sampler step-distill; use --guidance 1 for one DiT pass per step)");
  g.seed_opt = generate->add_option("--seed", g.seed, "Random seed (default: chosen by the server and reported)");
  g.negative_opt = generate->add_option("--negative-prompt", g.negative_prompt, "Negative prompt (default: the model's)");
  generate->add_option("--format", gen.format, "mp4 (H.264) or webm (VP9); default: from the -o extension");
  g.quality_opt = generate->add_option("--quality", g.quality, "Encoder quality 0..100");
  generate->add_option("--priority", gen.priority, "Queue priority (higher runs first)");
  generate->add_option("--request-id", gen.request_id, "Idempotency key (default: random)");
  generate->add_option("-o,--output", gen.output_path, "Output file (written atomically)")->required();
}

// watch / cancel / jobs / models / health.
void AddOtherCommands(CLI::App& app, Commands& c) {
  c.watch = app.add_subcommand("watch", "Follow a job's progress (and save its video with -o)");
  c.watch->add_option("job_id", c.job_id, "Job id")->required();
  c.watch->add_option("-o,--output", c.watch_output, "Save the video here (default: verify only)");
  c.cancel = app.add_subcommand("cancel", "Cancel a job");
  c.cancel->add_option("job_id", c.job_id, "Job id")->required();
  c.jobs = app.add_subcommand("jobs", "List the server's jobs");
  c.jobs->add_option("--limit", c.limit, "At most this many (default: the server's)");
  c.models = app.add_subcommand("models", "List the server's models, resident memory and plan");
  c.health = app.add_subcommand("health", "Ask the server whether it is serving (exit 0) or not (3)");
  c.health->add_flag("--wait", c.health_wait,
                     "Wait until the server is up and SERVING (at most --timeout seconds, default 60)");
}

// Parses the command line. Returns the exit code when the CLI is done already
// (help printed, or a usage error), nullopt when a command is to run.
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, std::ostream& out, std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::Success&) {
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "videogen: error: " << e.what() << " (see videogen --help)\n";
    return ToInt(ExitCode::kUsage);
  }
  return std::nullopt;
}

// The printer for --json / --quiet, the terminal and the environment (CI, TERM).
std::unique_ptr<ProgressPrinter> MakePrinter(const GlobalFlags& flags, std::ostream& out, std::ostream& err) {
  const char* term = getenv("TERM");
  return std::make_unique<ProgressPrinter>(
      ChooseProgressMode(flags.json, flags.quiet, isatty(STDERR_FILENO) == 1, getenv("CI") != nullptr,
                         term != nullptr && strcmp(term, "dumb") == 0),
      &err, &out);
}

int RunGenerate(Env& env, Connection& conn, InterruptState& interrupts, const GenerateCommand& command) {
  const GenerateFlags gen = command.Given();
  absl::StatusOr<v1::GenerateVideoRequest> request = BuildGenerateRequest(gen);
  if (!request.ok()) return env.Fail(ExitCode::kUsage, std::string(request.status().message()));
  if (request->model().empty()) {
    grpc::Status rpc;
    absl::StatusOr<std::string> model = DefaultModel(conn, *request, &rpc);
    if (!rpc.ok()) return env.FailRpc(rpc);
    if (!model.ok()) return env.Fail(ExitCode::kUsage, std::string(model.status().message()));
    request->set_model(*model);
  }
  return FollowJob(env, conn, interrupts, gen.output_path, &*request, "");
}

int RunCancel(Env& env, Connection& conn, const std::string& job_id) {
  grpc::ClientContext context;
  conn.PrepareUnary(&context);
  v1::CancelJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  const grpc::Status status = conn.stub()->CancelJob(&context, request, &job);
  if (!status.ok()) return env.FailRpc(status);
  if (env.flags->json) {
    *env.out << ToJson(job) << "\n";
  } else {
    *env.out << "job " << job.job_id() << ": " << JobStateName(job.state()) << "\n";
  }
  return 0;
}

// The PROGRESS column of `jobs`: stage and step while running, the size once
// succeeded, the status code once failed, else "-".
std::string JobProgressColumn(const v1::Job& job) {
  std::string progress = "-";
  if (job.state() == v1::RUNNING && job.has_progress()) {
    progress = StageLabel(job.progress().stage());
    if (job.progress().total_steps() > 0) {
      absl::StrAppend(&progress, " ", job.progress().step(), "/", job.progress().total_steps());
    }
  } else if (job.state() == v1::SUCCEEDED && job.has_result()) {
    progress = FormatBytes(job.result().bytes());
  } else if (job.has_error() && job.error().code() != 0) {
    progress = StatusCodeName(job.error().code());
  }
  return progress;
}

int RunJobs(Env& env, Connection& conn, uint32_t limit) {
  grpc::ClientContext context;
  conn.PrepareUnary(&context);
  v1::ListJobsRequest request;
  request.set_limit(limit);
  v1::ListJobsResponse response;
  const grpc::Status status = conn.stub()->ListJobs(&context, request, &response);
  if (!status.ok()) return env.FailRpc(status);
  std::ostream& out = *env.out;
  if (env.flags->json) {
    for (const v1::Job& job : response.jobs()) out << ToJson(job) << "\n";
    return 0;
  }
  out << absl::StrFormat("%-34s %-10s %-16s %-22s %s\n", "JOB", "STATE", "MODEL", "PROGRESS", "CREATED");
  for (const v1::Job& job : response.jobs()) {
    const absl::Time created = absl::FromUnixSeconds(job.created().seconds());
    out << absl::StrFormat("%-34s %-10s %-16s %-22s %s\n", job.job_id(), JobStateName(job.state()), job.model(),
                           JobProgressColumn(job),
                           absl::FormatTime("%Y-%m-%d %H:%M:%S", created, absl::LocalTimeZone()));
  }
  return 0;
}

// One model of `models`: id, type, variant and state, then its resident
// memory and its memory plan.
void PrintModel(std::ostream& out, const v1::Model& model) {
  uint64_t resident = 0;
  std::vector<std::string> groups;
  for (const auto& g : model.resident()) {
    resident += g.bytes();
    groups.push_back(absl::StrCat(g.component(), " ", g.dtype(), " ", g.device(), " ", FormatBytes(g.bytes())));
  }
  out << model.id() << "  (" << model.type() << ", " << model.variant() << ", " << model.state() << ")\n";
  if (!model.description().empty()) out << "  " << model.description() << "\n";
  if (model.has_defaults()) {
    const v1::ModelDefaults& d = model.defaults();
    out << "  defaults: " << d.width() << "x" << d.height() << ", " << d.num_frames() << " frames at " << d.fps()
        << " fps, " << d.steps() << " steps, shift " << d.shift() << ", guidance ";
    if (d.has_guidance_scale_high_noise()) {
      out << d.guidance_scale_high_noise() << " (high-noise expert, t >= " << d.expert_boundary() * 1000 << ") / "
          << d.guidance_scale() << " (low-noise)";
    } else {
      out << d.guidance_scale();
    }
    out << "\n";
  }
  if (model.has_admitted()) {
    out << "  admits:   up to " << model.admitted().max_frames() << " frames at the default size, up to "
        << model.admitted().max_area() << " pixels (width x height) at the default frames\n";
  }
  out << "  resident: " << FormatBytes(resident);
  if (!groups.empty()) out << " = " << absl::StrJoin(groups, " + ");
  out << "\n";
  if (model.adapters_size() != 0) {
    std::vector<std::string> adapters;
    for (const v1::LoadedAdapter& a : model.adapters()) {
      adapters.push_back(absl::StrCat(a.name(), " (", FormatBytes(a.bytes()), ")"));
    }
    out << "  adapters: " << absl::StrJoin(adapters, ", ") << " (--lora NAME[:STRENGTH])\n";
  }
  if (model.has_plan()) {
    const v1::MemoryPlan& plan = model.plan();
    out << "  plan:     " << (plan.offload_mode().empty() ? "-" : plan.offload_mode());
    for (const auto& [device, bytes] : plan.predicted_peak_bytes()) {
      out << ", predicted peak " << device << " " << FormatBytes(bytes);
    }
    out << "\n";
    if (!plan.summary().empty()) out << "  " << plan.summary() << "\n";
  }
}

int RunModels(Env& env, Connection& conn) {
  grpc::ClientContext context;
  conn.PrepareUnary(&context);
  v1::ListModelsResponse response;
  const grpc::Status status = conn.stub()->ListModels(&context, v1::ListModelsRequest(), &response);
  if (!status.ok()) return env.FailRpc(status);
  for (const v1::Model& model : response.models()) {
    if (env.flags->json) {
      *env.out << ToJson(model) << "\n";
    } else {
      PrintModel(*env.out, model);
    }
  }
  return 0;
}

int RunHealth(Env& env, Connection& conn, bool wait) {
  const ConnectionOptions& connection = env.flags->connection;
  HealthState state = HealthState::kUnknown;
  const grpc::Status status = wait ? conn.WaitUntilServing(connection.timeout.value_or(absl::Seconds(60)), &state)
                                   : conn.CheckHealth(&state);
  if (!status.ok() && !(wait && status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
    return env.FailRpc(status);
  }
  const char* name = state == HealthState::kServing ? "SERVING"
                     : state == HealthState::kNotServing ? "NOT_SERVING" : "UNKNOWN";
  if (env.flags->json) {
    *env.out << "{\"status\":\"" << name << "\"}\n";
  } else {
    *env.out << connection.server << ": " << name << "\n";
  }
  return state == HealthState::kServing ? 0 : ToInt(ExitCode::kUnavailable);
}

// Runs the one subcommand the command line chose.
int RunCommand(Env& env, Connection& conn, InterruptState& interrupts, const Commands& c) {
  if (*c.generate.command) return RunGenerate(env, conn, interrupts, c.generate);
  if (*c.watch) return FollowJob(env, conn, interrupts, c.watch_output, nullptr, c.job_id);
  if (*c.cancel) return RunCancel(env, conn, c.job_id);
  if (*c.jobs) return RunJobs(env, conn, c.limit);
  if (*c.models) return RunModels(env, conn);
  if (*c.health) return RunHealth(env, conn, c.health_wait);
  return ToInt(ExitCode::kUsage);
}

}  // namespace

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  InterruptState interrupts;
  SignalWatcher watcher([&interrupts](int) { interrupts.OnSignal(); });

  GlobalFlags flags;
  Commands commands;
  CLI::App app{"videogen: generate videos with a videogen server (Wan2.1 and Wan2.2 models)", "videogen"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  AddGlobalFlags(app, flags);
  AddGenerateCommand(app, commands.generate);
  AddOtherCommands(app, commands);
  if (std::optional<int> done = ParseCommandLine(app, argc, argv, out, err)) return *done;

  Env env{&out, &err, &flags, MakePrinter(flags, out, err)};
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(flags);
  if (!connection.ok()) {
    const ExitCode code = connection.status().code() == absl::StatusCode::kNotFound
                              ? ExitCode::kUsage
                              : ExitCodeForLocal(connection.status());
    return env.Fail(code, std::string(connection.status().message()));
  }
  return RunCommand(env, **connection, interrupts, commands);
}

}  // namespace videogen::client
