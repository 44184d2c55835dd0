#include "engine/pipeline/tiny_model.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/io/model_dir.h"

extern char** environ;

namespace videogen::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr char kMakeTiny[] = "videogen-make-tiny";

bool IsExecutableFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// `name` in the directories of $PATH, or "".
std::string SearchPath(const std::string& name) {
  for (absl::string_view dir : absl::StrSplit(Getenv("PATH"), ':', absl::SkipEmpty())) {
    const fs::path candidate = fs::path(std::string(dir)) / name;
    if (IsExecutableFile(candidate)) return candidate.string();
  }
  return "";
}

// The videogen-make-tiny to run (see TinyModelOptions::make_tiny).
absl::StatusOr<std::string> FindMakeTiny(const std::string& configured) {
  if (!configured.empty()) {
    if (configured.find('/') != std::string::npos) {
      if (IsExecutableFile(configured)) return configured;
      return absl::FailedPreconditionError(
          absl::StrCat(kMakeTiny, " (", configured, ") is not an executable file; it writes the tiny model"));
    }
    if (std::string found = SearchPath(configured); !found.empty()) return found;
    return absl::FailedPreconditionError(
        absl::StrCat(kMakeTiny, " (", configured, ") is not on PATH; it writes the tiny model"));
  }
  std::vector<std::string> looked;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path() / kMakeTiny;
    if (IsExecutableFile(beside)) return beside.string();
    looked.push_back(absl::StrCat("beside ", self.string()));
  }
  if (const std::string build = Getenv("VIDEOGEN_BINARY_DIR"); !build.empty()) {
    const fs::path in_build = fs::path(build) / "bin" / kMakeTiny;
    if (IsExecutableFile(in_build)) return in_build.string();
    looked.push_back(absl::StrCat("in ", (fs::path(build) / "bin").string(), " ($VIDEOGEN_BINARY_DIR/bin)"));
  }
  if (std::string found = SearchPath(kMakeTiny); !found.empty()) return found;
  looked.push_back("on PATH");
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot find ", kMakeTiny, ", which writes the tiny model (looked ", absl::StrJoin(looked, ", "),
      "); build the ", kMakeTiny, " target, install it beside the server, or set its path"));
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `argv` with stdout and stderr into `log`; the exit status as waitpid
// reports it.
absl::StatusOr<int> Run(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::FailedPreconditionError(absl::StrCat("cannot wait for ", argv[0], ": ", std::strerror(errno)));
    }
  }
  return status;
}

}  // namespace

std::string TinyTypeName(const TinyModelOptions& options) {
  return absl::StrCat(ModelTypeName(options.type), options.expert_pair ? "-a14b" : "");
}

bool ParseTinyType(const std::string& name, TinyModelOptions* options) {
  for (ModelType type : {ModelType::kT2V, ModelType::kI2V, ModelType::kFLF2V, ModelType::kTI2V}) {
    for (bool pair : {false, true}) {
      if (pair && type != ModelType::kT2V && type != ModelType::kI2V) continue;
      TinyModelOptions candidate = *options;
      candidate.type = type;
      candidate.expert_pair = pair;
      if (TinyTypeName(candidate) == name) {
        *options = candidate;
        return true;
      }
    }
  }
  return false;
}

std::string TinyModelDir(const std::string& cache_dir, const TinyModelOptions& options) {
  return (fs::path(cache_dir) / absl::StrCat("tiny-", TinyTypeName(options), "-", options.seed)).string();
}

absl::StatusOr<std::string> EnsureTinyModel(const std::string& cache_dir, const TinyModelOptions& options) {
  const fs::path target = TinyModelDir(cache_dir, options);
  std::error_code ec;
  if (fs::is_regular_file(target / io::kVideogenConfigFile, ec)) return target.string();
  fs::create_directories(cache_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", cache_dir, ": ", ec.message()));
  absl::StatusOr<std::string> make_tiny = FindMakeTiny(options.make_tiny);
  if (!make_tiny.ok()) return make_tiny.status();

  // Unique per process and call: concurrent makers never share a directory.
  static std::atomic<uint64_t> calls{0};
  const std::string tmp_name = absl::StrCat(".tmp-", target.filename().string(), "-", ::getpid(), "-", calls++);
  const fs::path tmp = fs::path(cache_dir) / tmp_name;
  const fs::path log = fs::path(cache_dir) / (tmp_name + ".log");
  fs::remove_all(tmp, ec);
  const absl::StatusOr<int> status =
      Run({*make_tiny, tmp.string(), "--type", TinyTypeName(options), "--seed", absl::StrCat(options.seed),
           "--spm-train", options.spm_train},
          log);
  std::string output = ReadText(log);
  fs::remove(log, ec);
  if (!status.ok() || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    fs::remove_all(tmp, ec);
    if (!status.ok()) return status.status();
    const std::string how = WIFEXITED(*status) ? absl::StrCat("exit ", WEXITSTATUS(*status))
                                               : absl::StrCat("signal ", WTERMSIG(*status));
    constexpr size_t kTail = 2000;
    if (output.size() > kTail) output = "..." + output.substr(output.size() - kTail);
    return absl::FailedPreconditionError(absl::StrCat(*make_tiny, " failed (", how, ") writing the tiny model: ",
                                                      absl::StripTrailingAsciiWhitespace(output)));
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    // Another process may have finished first.
    if (fs::is_regular_file(target / io::kVideogenConfigFile)) return target.string();
    return absl::InternalError(absl::StrCat("cannot move the tiny model into ", target.string()));
  }
  return target.string();
}

std::string DefaultCacheDir() {
  if (const char* v = std::getenv("VIDEOGEN_CACHE_DIR"); v != nullptr && *v != '\0') return v;
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v != nullptr && *v != '\0') {
    return (fs::path(v) / "videogen").string();
  }
  if (const char* v = std::getenv("HOME"); v != nullptr && *v != '\0') {
    return (fs::path(v) / ".cache" / "videogen").string();
  }
  return (fs::temp_directory_path() / "videogen-cache").string();
}

}  // namespace videogen::pipeline
