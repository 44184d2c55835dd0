// The real `videogen` binary against the real `videogen-server --model fake`
// (started per suite on 127.0.0.1:0). Synchronised on the processes' output.
#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/video_assembler.h"
#include "tests/client/subprocess.h"
#include "tests/client/tcp_proxy.h"

namespace videogen::testing {
namespace {

using client::Sha256Hex;

std::string BinDir() {
  const char* dir = getenv("VIDEOGEN_BINARY_DIR");
  return std::string(dir != nullptr ? dir : "build") + "/bin";
}

std::string Client() { return BinDir() + "/videogen"; }

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/cli_test_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    out.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
    EXPECT_FALSE(out.back().is_discarded()) << "not JSON: " << line;
  }
  return out;
}

std::string WithOutput(const ProcessResult& r) {
  return absl::StrCat("exit ", r.exit_code, " signal ", r.term_signal, "\nstdout:\n", r.out, "\nstderr:\n", r.err);
}

// Removes the files the tests wrote under TempDir().
class CleanupEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { RunProcess({"/bin/sh", "-c", "rm -rf " + TempPath("") + "*"}); }
};
::testing::Environment* const kCleanup = ::testing::AddGlobalTestEnvironment(new CleanupEnvironment);

// A running videogen-server; its port parsed from its stdout.
class Server {
 public:
  // `client_args` are the connection flags the CLI needs to reach it (TLS);
  // `env` its environment (besides PATH).
  explicit Server(std::vector<std::string> extra_args, std::vector<std::string> client_args = {},
                  std::map<std::string, std::string> env = {}) {
    const std::string binary = BinDir() + "/videogen-server";
    if (!Exists(binary)) {
      ADD_FAILURE() << binary << " is missing: build the videogen-server target first";
      return;
    }
    std::vector<std::string> argv = {binary, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"};
    if (std::find(extra_args.begin(), extra_args.end(), "--model") == extra_args.end()) {
      argv.insert(argv.end(), {"--model", "fake"});
    }
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<Subprocess>(argv, env);
    const std::regex listening("videogen-server: listening on 127\\.0\\.0\\.1:(\\d+)");
    std::smatch m;
    if (!process_->WaitFor([&](const std::string& out, const std::string&) {
          return std::regex_search(out, m, listening);
        })) {
      ADD_FAILURE() << "server did not start:\n" << process_->err();
      return;
    }
    const std::string out = process_->out();
    std::regex_search(out, m, listening);
    port_ = std::stoi(m[1]);
    // The model warms up before the server reports SERVING; wait on the
    // health service's Watch stream (the CLI's `health --wait`).
    std::vector<std::string> wait = {Client(), "--server", address(), "--timeout", "60"};
    wait.insert(wait.end(), client_args.begin(), client_args.end());
    wait.insert(wait.end(), {"health", "--wait"});
    ProcessResult ready = RunProcess(wait);
    EXPECT_EQ(ready.exit_code, 0) << ready.out << ready.err << process_->err();
  }
  ~Server() {
    if (process_) {
      process_->Signal(SIGTERM);
      process_->Wait();
    }
  }
  int port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
};

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server({"--fake-step-ms", "50", "--fake-fail-prompt", "please fail"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // videogen --server <fake> ARGS... with a clean environment.
  static ProcessResult Videogen(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {Client(), "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, env);
  }

  static Server* server_;
};
Server* CliTest::server_ = nullptr;

TEST_F(CliTest, HealthAndModels) {
  ProcessResult health = Videogen({"health"});
  EXPECT_EQ(health.exit_code, 0) << WithOutput(health);
  EXPECT_NE(health.out.find("SERVING"), std::string::npos) << WithOutput(health);
  ProcessResult models = Videogen({"models"});
  ASSERT_EQ(models.exit_code, 0) << WithOutput(models);
  EXPECT_EQ(models.out.substr(0, 4), "fake") << models.out;
  EXPECT_NE(models.out.find("resident: "), std::string::npos) << models.out;
  EXPECT_NE(models.out.find("predicted peak cpu"), std::string::npos) << models.out;
}

TEST_F(CliTest, GenerateWritesVerifiedFileAndSummary) {
  const std::string path = TempPath("gen.mp4");
  unlink(path.c_str());
  ProcessResult r = Videogen({"generate", "--prompt", "a red fox", "--seed", "11", "--frames", "9", "-o", path});
  ASSERT_EQ(r.exit_code, 0) << WithOutput(r);
  const std::string video = ReadAll(path);
  ASSERT_GT(video.size(), 100u);
  EXPECT_EQ(video.substr(4, 4), "ftyp") << "an MP4 file";
  EXPECT_NE(r.out.find("wrote " + path), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sha256   " + Sha256Hex(video) + " (verified)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seed     11"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(absl::StrCat("(", video.size(), " bytes)")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("9 frames"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timings  "), std::string::npos) << r.out;
  // Not a terminal: plain progress lines, no carriage returns.
  EXPECT_NE(r.err.find("denoising"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  // No temporary file left next to the output.
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "ls " + path + ".partial-* 2>/dev/null | wc -l"}).out, "0\n");
}

TEST_F(CliTest, JsonEventsThenResult) {
  const std::string path = TempPath("json.webm");
  ProcessResult r = Videogen({"--json", "generate", "-p", "waves", "--steps", "3", "-o", path});
  ASSERT_EQ(r.exit_code, 0) << WithOutput(r);
  const std::vector<nlohmann::json> events = JsonLines(r.out);
  ASSERT_GE(events.size(), 5u) << r.out;
  EXPECT_EQ(events.front()["type"], "accepted");
  const std::string job_id = events.front()["job_id"];
  EXPECT_FALSE(job_id.empty());
  int denoise_steps = 0, chunks = 0;
  uint64_t chunk_bytes = 0;
  for (const auto& e : events) {
    EXPECT_EQ(e["job_id"], job_id) << e.dump();
    if (e["type"] == "progress" && e["stage"] == "denoising" && e["step"].get<int>() > 0) {
      ++denoise_steps;
      EXPECT_EQ(e["total_steps"], 3);
    }
    if (e["type"] == "video_chunk") {
      EXPECT_EQ(e["offset"].get<uint64_t>(), chunk_bytes);
      chunk_bytes += e["bytes"].get<uint64_t>();
      ++chunks;
    }
  }
  EXPECT_EQ(denoise_steps, 3);
  EXPECT_GE(chunks, 1);
  const nlohmann::json& completed = events[events.size() - 2];
  const nlohmann::json& result = events.back();
  ASSERT_EQ(completed["type"], "completed");
  ASSERT_EQ(result["type"], "result");
  EXPECT_EQ(completed["container"], "webm") << "format follows the .webm extension";
  EXPECT_EQ(completed["codec"], "vp9");
  const std::string video = ReadAll(path);
  EXPECT_EQ(result["path"], path);
  EXPECT_EQ(result["bytes"].get<uint64_t>(), video.size());
  EXPECT_EQ(chunk_bytes, video.size());
  EXPECT_EQ(result["sha256"], Sha256Hex(video));
  EXPECT_EQ(completed["sha256"], Sha256Hex(video));

  // `watch` on the finished job replays the same video.
  const std::string copy = TempPath("watch_copy.webm");
  ProcessResult w = Videogen({"--quiet", "watch", job_id, "-o", copy});
  ASSERT_EQ(w.exit_code, 0) << WithOutput(w);
  EXPECT_EQ(ReadAll(copy), video);
  // And `jobs` lists it as succeeded.
  ProcessResult jobs = Videogen({"--json", "jobs"});
  ASSERT_EQ(jobs.exit_code, 0) << WithOutput(jobs);
  bool found = false;
  for (const auto& j : JsonLines(jobs.out)) {
    if (j["job_id"] == job_id) {
      found = true;
      EXPECT_EQ(j["state"], "SUCCEEDED") << j.dump();
    }
  }
  EXPECT_TRUE(found) << jobs.out;
}

TEST_F(CliTest, ServerInvalidArgumentExits2NamingTheField) {
  const std::string path = TempPath("bad.mp4");
  ProcessResult r = Videogen({"generate", "-p", "x", "--frames", "10", "-o", path});
  EXPECT_EQ(r.exit_code, 2) << WithOutput(r);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT: num_frames"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_FALSE(Exists(path));
  ProcessResult size = Videogen({"generate", "-p", "x", "--size", "100x50", "-o", path});
  EXPECT_EQ(size.exit_code, 2) << WithOutput(size);
  EXPECT_NE(size.err.find("width"), std::string::npos) << size.err;
}

TEST_F(CliTest, FailedJobExits4) {
  const std::string path = TempPath("failed.mp4");
  ProcessResult r = Videogen({"generate", "-p", "please fail", "-o", path});
  EXPECT_EQ(r.exit_code, 4) << WithOutput(r);
  EXPECT_NE(r.err.find("injected failure"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(path));
}

TEST_F(CliTest, LocalUsageErrorsExit2) {
  ProcessResult bad_size = Videogen({"generate", "-p", "x", "--size", "wide", "-o", TempPath("u.mp4")});
  EXPECT_EQ(bad_size.exit_code, 2) << WithOutput(bad_size);
  EXPECT_NE(bad_size.err.find("size:"), std::string::npos) << bad_size.err;
  ProcessResult no_output = Videogen({"generate", "-p", "x"});
  EXPECT_EQ(no_output.exit_code, 2) << WithOutput(no_output);
  EXPECT_NE(no_output.err.find("--output"), std::string::npos) << no_output.err;
  ProcessResult unknown = Videogen({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << WithOutput(unknown);
  ProcessResult missing_job = Videogen({"watch", "job-does-not-exist"});
  EXPECT_EQ(missing_job.exit_code, 2) << WithOutput(missing_job);
  EXPECT_NE(missing_job.err.find("NOT_FOUND"), std::string::npos) << missing_job.err;
}

TEST(CliNoServerTest, UnreachableServerExits3) {
  // A bound but not listening socket: connections to it are refused, and no
  // other process can take the port while it is held.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  const std::string path = TempPath("down.mp4");
  ProcessResult gen = RunProcess({Client(), "generate", "-p", "x", "-m", "fake", "-o", path},
                          {{"VIDEOGEN_SERVER", address}});
  EXPECT_EQ(gen.exit_code, 3) << WithOutput(gen);
  EXPECT_NE(gen.err.find("cannot reach the server at " + address), std::string::npos) << gen.err;
  EXPECT_FALSE(Exists(path));
  ProcessResult health = RunProcess({Client(), "--server", address, "health"});
  EXPECT_EQ(health.exit_code, 3) << WithOutput(health);
  close(fd);
}

TEST_F(CliTest, CtrlCCancelsTheJobAndExits5) {
  const std::string path = TempPath("cancel.mp4");
  Subprocess p({Client(), "--server", server_->address(), "--json", "generate", "-p", "slow", "--steps", "100",
                "-o", path},
               {});
  ASSERT_TRUE(p.WaitForStdout("\"stage\":\"denoising\"")) << p.out() << p.err();
  p.Signal(SIGINT);
  ProcessResult r = p.Wait();
  EXPECT_EQ(r.exit_code, 5) << WithOutput(r);
  const std::vector<nlohmann::json> events = JsonLines(r.out);
  ASSERT_FALSE(events.empty());
  const std::string job_id = events.front()["job_id"];
  bool cancel_requested = false, failed_cancelled = false;
  for (const auto& e : events) {
    if (e["type"] == "cancel_requested") cancel_requested = true;
    if (e["type"] == "failed" && e["code"] == "CANCELLED") failed_cancelled = true;
  }
  EXPECT_TRUE(cancel_requested) << r.out;
  EXPECT_TRUE(failed_cancelled) << "the server confirmed the cancellation: " << r.out;
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "ls " + path + ".partial-* 2>/dev/null | wc -l"}).out, "0\n");
  ProcessResult jobs = Videogen({"--json", "jobs"});
  bool found = false;
  for (const auto& j : JsonLines(jobs.out)) {
    if (j["job_id"] == job_id) {
      found = true;
      EXPECT_EQ(j["state"], "CANCELLED") << j.dump();
    }
  }
  EXPECT_TRUE(found) << jobs.out;
}

TEST_F(CliTest, CancelCommandStopsAnotherClientsJob) {
  const std::string path = TempPath("cancel2.mp4");
  Subprocess gen({Client(), "--server", server_->address(), "--json", "generate", "-p", "slow", "--steps", "100",
                  "-o", path},
                 {});
  ASSERT_TRUE(gen.WaitForStdout("\"type\":\"accepted\"")) << gen.err();
  const std::vector<nlohmann::json> events = JsonLines(gen.out().substr(0, gen.out().find('\n') + 1));
  const std::string job_id = events.at(0)["job_id"];
  ProcessResult cancel = Videogen({"cancel", job_id});
  EXPECT_EQ(cancel.exit_code, 0) << WithOutput(cancel);
  EXPECT_NE(cancel.out.find("job " + job_id), std::string::npos) << cancel.out;
  ProcessResult r = gen.Wait();
  EXPECT_EQ(r.exit_code, 5) << WithOutput(r);
  EXPECT_NE(r.err.find("CANCELLED"), std::string::npos) << r.err;
}

TEST_F(CliTest, ReattachesAfterTheStreamIsCut) {
  TcpProxy proxy(server_->port());
  const std::string path = TempPath("reattach.mp4");
  Subprocess p({Client(), "--server", absl::StrCat("127.0.0.1:", proxy.port()), "--json",
                "--reattach-backoff-ms", "20", "generate", "-p", "interrupted", "--steps", "12", "-o", path},
               {});
  ASSERT_TRUE(p.WaitForStdout("\"stage\":\"denoising\"")) << p.out() << p.err();
  EXPECT_GE(proxy.CutAll(), 1);
  ProcessResult r = p.Wait();
  ASSERT_EQ(r.exit_code, 0) << WithOutput(r);
  EXPECT_GE(proxy.accepted(), 2) << "a new connection after the cut";
  const std::vector<nlohmann::json> events = JsonLines(r.out);
  int reattaches = 0;
  for (const auto& e : events) {
    if (e["type"] == "reattach") {
      ++reattaches;
      EXPECT_EQ(e["from_offset"], 0) << "no video received before the cut";
    }
  }
  EXPECT_GE(reattaches, 1) << r.out;
  ASSERT_EQ(events.back()["type"], "result") << r.out;
  const std::string video = ReadAll(path);
  EXPECT_EQ(events.back()["sha256"], Sha256Hex(video));
  EXPECT_EQ(events.back()["bytes"].get<uint64_t>(), video.size());
  // Re-attached, not resubmitted: every event belongs to the one job.
  const std::string job_id = events.front()["job_id"];
  for (const auto& e : events) EXPECT_EQ(e["job_id"], job_id) << e.dump();
}

TEST_F(CliTest, SecondCtrlCExitsAtOnceAndLeavesNoPartialFile) {
  TcpProxy proxy(server_->port());
  const std::string path = TempPath("twice.mp4");
  Subprocess p({Client(), "--server", absl::StrCat("127.0.0.1:", proxy.port()), "--json", "generate", "-p", "slow",
                "--steps", "100", "-o", path},
               {});
  ASSERT_TRUE(p.WaitForStdout("\"stage\":\"denoising\"")) << p.out() << p.err();
  const std::string job_id = JsonLines(p.out().substr(0, p.out().find('\n') + 1)).at(0)["job_id"];
  // A silent network: the CancelJob the first Ctrl-C sends gets no answer.
  proxy.Freeze();
  p.Signal(SIGINT);
  ASSERT_TRUE(p.WaitForStdout("\"type\":\"cancel_requested\"")) << p.out() << p.err();
  p.Signal(SIGINT);
  ProcessResult r = p.Wait();
  EXPECT_EQ(r.exit_code, 130) << WithOutput(r);
  EXPECT_NE(r.err.find("interrupted again"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "ls " + path + ".partial-* 2>/dev/null | wc -l"}).out, "0\n");
  // The server never heard of the cancel; stop the job so the next tests do not queue behind it.
  ProcessResult cancel = Videogen({"cancel", job_id});
  EXPECT_EQ(cancel.exit_code, 0) << WithOutput(cancel);
}

TEST_F(CliTest, TimeoutExits3) {
  const std::string path = TempPath("timeout.mp4");
  ProcessResult r = Videogen({"--json", "--timeout", "0.5", "generate", "-p", "slow", "--steps", "100", "-o", path});
  EXPECT_EQ(r.exit_code, 3) << WithOutput(r);
  EXPECT_NE(r.err.find("timeout: no result within"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(path));
  const std::vector<nlohmann::json> events = JsonLines(r.out);
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(events.front()["type"], "accepted");
  ProcessResult cancel = Videogen({"cancel", events.front()["job_id"]});
  EXPECT_EQ(cancel.exit_code, 0) << WithOutput(cancel);
}

TEST_F(CliTest, LiveBarOnATerminal) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const std::string slave = ptsname(master);
  const std::string path = TempPath("tty.mp4");
  const std::string out_file = TempPath("tty.stdout");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, slave.c_str(), O_RDWR | O_NOCTTY, 0);
  posix_spawn_file_actions_addclose(&actions, master);
  const std::string server = server_->address();
  std::vector<std::string> args = {Client(), "--server", server, "generate", "-p", "bar", "--steps", "6", "-o", path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string term = "TERM=xterm";
  char* envp[] = {term.data(), nullptr};
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp), 0);
  posix_spawn_file_actions_destroy(&actions);
  std::string tty;
  char buf[4096];
  while (true) {  // until the child closes the terminal (EIO)
    const ssize_t n = read(master, buf, sizeof(buf));
    if (n > 0) {
      tty.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(master);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << tty;
  // Redrawn in place: carriage returns, a bar, the step count and the elapsed time.
  EXPECT_NE(tty.find("\rdenoising      ["), std::string::npos) << tty;
  EXPECT_NE(tty.find("] 6/6  elapsed 0:0"), std::string::npos) << tty;
  EXPECT_EQ(tty.find("] denoising 1/6"), std::string::npos) << "no per-step lines on a terminal: " << tty;
  EXPECT_NE(ReadAll(out_file).find("wrote " + path), std::string::npos);
  EXPECT_TRUE(Exists(path));
}

// TLS and mutual TLS with self-signed certificates made by the test.
class CliTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempPath("tls"));
    const std::string make = absl::StrCat(
        "set -e; mkdir -p ", *dir_, "; cd ", *dir_, "; ",
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout server.key -out server.crt "
        "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null; ",
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout client.key -out client.crt "
        "-subj /CN=videogen-client 2>/dev/null");
    ProcessResult made = RunProcess({"/bin/sh", "-c", make});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    server_ = new Server({"--tls-cert", *dir_ + "/server.crt", "--tls-key", *dir_ + "/server.key",
                          "--tls-client-ca", *dir_ + "/client.crt"},
                         MutualTlsFlags());
  }
  static void TearDownTestSuite() {
    delete server_;
    RunProcess({"/bin/rm", "-rf", *dir_});
    delete dir_;
  }
  static std::vector<std::string> MutualTlsFlags() {
    return {"--tls-ca", *dir_ + "/server.crt", "--tls-cert", *dir_ + "/client.crt", "--tls-key",
            *dir_ + "/client.key"};
  }
  static ProcessResult Videogen(std::vector<std::string> flags, std::vector<std::string> args) {
    std::vector<std::string> argv = {Client(), "--server", server_->address()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  static Server* server_;
  static std::string* dir_;
};
Server* CliTlsTest::server_ = nullptr;
std::string* CliTlsTest::dir_ = nullptr;

TEST_F(CliTlsTest, MutualTlsGenerates) {
  const std::string path = TempPath("tls.mp4");
  ProcessResult r = Videogen(MutualTlsFlags(), {"generate", "-p", "secure", "-o", path});
  EXPECT_EQ(r.exit_code, 0) << WithOutput(r);
  EXPECT_TRUE(Exists(path));
}

TEST_F(CliTlsTest, MissingClientCertificateOrPlaintextIsRefused) {
  ProcessResult no_cert = Videogen({"--tls-ca", *dir_ + "/server.crt"}, {"models"});
  EXPECT_EQ(no_cert.exit_code, 3) << WithOutput(no_cert);
  ProcessResult plaintext = Videogen({}, {"models"});
  EXPECT_EQ(plaintext.exit_code, 3) << WithOutput(plaintext);
  ProcessResult key_without_cert = Videogen({"--tls-key", *dir_ + "/client.key"}, {"models"});
  EXPECT_EQ(key_without_cert.exit_code, 2) << WithOutput(key_without_cert);
  EXPECT_NE(key_without_cert.err.find("tls_key"), std::string::npos) << key_without_cert.err;
}

TEST(CliImageTest, ImageToVideoWithTheExampleImage) {
  Server server({"--model", "fake-i2v"});
  const std::string path = TempPath("i2v.mp4");
  // No --model: the CLI picks the server's i2v model because an image is given.
  ProcessResult r = RunProcess({Client(), "--server", server.address(), "generate", "--prompt", "sunrise", "--image",
                                "scripts/assets/example.png", "--frames", "9", "-o", path});
  EXPECT_EQ(r.exit_code, 0) << WithOutput(r);
  EXPECT_TRUE(Exists(path));
  ProcessResult missing = RunProcess({Client(), "--server", server.address(), "generate", "-p", "x", "--image",
                                      "no/such/image.png", "-o", path + ".2"});
  EXPECT_EQ(missing.exit_code, 2) << WithOutput(missing);
  EXPECT_NE(missing.err.find("image: cannot read"), std::string::npos) << missing.err;
}

// The embedded tiny models through the CLI binary: first-last-frame video,
// and per-request adapters loaded by the server (--adapter) and selected with
// --lora NAME[:STRENGTH].
class CliTinyModelTest : public ::testing::Test {
 protected:
  // The model cache of the build (ctest sets VIDEOGEN_CACHE_DIR).
  static std::map<std::string, std::string> CacheEnv() {
    const char* cache = std::getenv("VIDEOGEN_CACHE_DIR");
    return {{"VIDEOGEN_CACHE_DIR", cache != nullptr ? cache : TempPath("cache")}};
  }
};

TEST_F(CliTinyModelTest, FirstLastFrameVideo) {
  Server server({"--model", "tiny-flf2v"}, {}, CacheEnv());
  const std::string path = TempPath("flf2v.mp4");
  // No --model: a last frame makes the CLI pick the server's flf2v model.
  ProcessResult r = RunProcess({Client(), "--server", server.address(), "-q", "generate", "--prompt", "a boat",
                                "--image", "scripts/assets/example.png", "--last-frame", "scripts/assets/example.png",
                                "--steps", "1", "-o", path});
  EXPECT_EQ(r.exit_code, 0) << WithOutput(r);
  EXPECT_NE(r.out.find("81 frames"), std::string::npos) << r.out;
  ProcessResult no_last = RunProcess({Client(), "--server", server.address(), "generate", "--prompt", "a boat",
                                      "--image", "scripts/assets/example.png", "-o", path + ".2"});
  EXPECT_EQ(no_last.exit_code, 2) << WithOutput(no_last);
  EXPECT_NE(no_last.err.find("last_frame"), std::string::npos) << no_last.err;
}

// A Wan2.2 expert pair through the CLI: `models` shows the guidance pair and
// the boundary; --json progress names each step's expert; ffprobe reads the video.
TEST_F(CliTinyModelTest, ExpertPairModelAndItsProgress) {
  Server server({"--model", "tiny-t2v-a14b"}, {}, CacheEnv());
  ProcessResult models = RunProcess({Client(), "--server", server.address(), "models"});
  EXPECT_EQ(models.exit_code, 0) << WithOutput(models);
  EXPECT_NE(models.out.find("guidance 4 (high-noise expert, t >= 875) / 3 (low-noise)"), std::string::npos)
      << models.out;
  EXPECT_NE(models.out.find("dit_low_noise"), std::string::npos) << models.out;
  const std::string path = TempPath("a14b.mp4");
  ProcessResult r = RunProcess({Client(), "--server", server.address(), "--json", "generate", "--prompt", "a storm",
                                "--size", "64x32", "--frames", "5", "--steps", "4", "-o", path});
  EXPECT_EQ(r.exit_code, 0) << WithOutput(r);
  EXPECT_NE(r.out.find("\"expert\":\"high_noise\""), std::string::npos) << r.out;
  ProcessResult probe = RunProcess({"/usr/bin/ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                    "stream=nb_read_frames", "-of", "csv=p=0", path});
  EXPECT_EQ(probe.exit_code, 0) << WithOutput(probe);
  EXPECT_NE(probe.out.find("5"), std::string::npos) << probe.out;
}

TEST_F(CliTinyModelTest, PerRequestAdapterSelectedWithLora) {
  std::string cache = CacheEnv().at("VIDEOGEN_CACHE_DIR");
  { Server first({"--model", "tiny-t2v"}, {}, CacheEnv()); }  // writes the tiny model into the cache
  std::ifstream config_file(cache + "/tiny-t2v-2025/config.json");
  ASSERT_TRUE(config_file.good());
  const int64_t dim = nlohmann::json::parse(config_file).at("dim").get<int64_t>();
  // A rank-2 LoRA on blocks.0.self_attn.q (dim x dim), F32, written by hand.
  nlohmann::json header;
  header["diffusion_model.blocks.0.self_attn.q.lora_down.weight"] = {
      {"dtype", "F32"}, {"shape", {2, dim}}, {"data_offsets", {0, 2 * dim * 4}}};
  header["diffusion_model.blocks.0.self_attn.q.lora_up.weight"] = {
      {"dtype", "F32"}, {"shape", {dim, 2}}, {"data_offsets", {2 * dim * 4, 4 * dim * 4}}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  const std::string lora = TempPath("style.safetensors");
  {
    std::ofstream out(lora, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << text;
    const std::vector<float> values(static_cast<size_t>(4 * dim), 0.05f);
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  }
  Server server({"--model", "tiny-t2v", "--adapter", "style=" + lora}, {}, CacheEnv());
  ProcessResult models = RunProcess({Client(), "--server", server.address(), "models"});
  EXPECT_NE(models.out.find("adapters: style"), std::string::npos) << WithOutput(models);
  const std::string path = TempPath("styled.mp4");
  ProcessResult r = RunProcess({Client(), "--server", server.address(), "-q", "generate", "--prompt", "waves",
                                "--size", "32x32", "--frames", "1", "--steps", "1", "--lora", "style:0.5", "-o", path});
  EXPECT_EQ(r.exit_code, 0) << WithOutput(r);
  EXPECT_TRUE(Exists(path));
  ProcessResult unknown = RunProcess({Client(), "--server", server.address(), "generate", "--prompt", "waves",
                                      "--size", "32x32", "--frames", "1", "--lora", "nope", "-o", path + ".2"});
  EXPECT_EQ(unknown.exit_code, 2) << WithOutput(unknown);
  EXPECT_NE(unknown.err.find("adapters"), std::string::npos) << unknown.err;
}

class CliAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    token_file_ = new std::string(TempPath("token"));
    std::ofstream(*token_file_) << "s3cret-token\n";
    server_ = new Server({"--auth-token-file", *token_file_});
  }
  static void TearDownTestSuite() {
    delete server_;
    unlink(token_file_->c_str());
    delete token_file_;
  }
  static Server* server_;
  static std::string* token_file_;
};
Server* CliAuthTest::server_ = nullptr;
std::string* CliAuthTest::token_file_ = nullptr;

TEST_F(CliAuthTest, MissingOrWrongTokenExits6) {
  const std::string path = TempPath("auth.mp4");
  ProcessResult none = RunProcess({Client(), "--server", server_->address(), "generate", "-p", "x", "-m", "fake", "-o", path});
  EXPECT_EQ(none.exit_code, 6) << WithOutput(none);
  EXPECT_NE(none.err.find("UNAUTHENTICATED"), std::string::npos) << none.err;
  ProcessResult wrong = RunProcess({Client(), "--server", server_->address(), "models"}, {{"VIDEOGEN_TOKEN", "guess"}});
  EXPECT_EQ(wrong.exit_code, 6) << WithOutput(wrong);
  ProcessResult wrong_jobs = RunProcess({Client(), "--server", server_->address(), "jobs"}, {{"VIDEOGEN_TOKEN", "guess"}});
  EXPECT_EQ(wrong_jobs.exit_code, 6) << WithOutput(wrong_jobs);
  EXPECT_FALSE(Exists(path));
}

TEST_F(CliAuthTest, RightTokenFromFileOrEnvironment) {
  const std::string path = TempPath("auth_ok.mp4");
  ProcessResult from_file = RunProcess({Client(), "--server", server_->address(), "--token-file", *token_file_, "generate",
                                 "-p", "x", "-o", path});
  EXPECT_EQ(from_file.exit_code, 0) << WithOutput(from_file);
  EXPECT_TRUE(Exists(path));
  ProcessResult from_env =
      RunProcess({Client(), "--server", server_->address(), "models"}, {{"VIDEOGEN_TOKEN", "s3cret-token"}});
  EXPECT_EQ(from_env.exit_code, 0) << WithOutput(from_env);
  // Health is open without a token.
  ProcessResult health = RunProcess({Client(), "--server", server_->address(), "health"});
  EXPECT_EQ(health.exit_code, 0) << WithOutput(health);
}

}  // namespace
}  // namespace videogen::testing
