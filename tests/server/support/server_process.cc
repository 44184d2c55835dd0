#include "tests/server/support/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace videogen::testing {

namespace {

int ParsePort(const std::string& line, const std::string& marker) {
  const size_t at = line.find(marker);
  if (at == std::string::npos) return 0;
  const size_t colon = line.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(line.substr(colon + 1), &port)) return 0;
  return port;
}

}  // namespace

std::string ServerBinaryPath() {
  const char* dir = std::getenv("VIDEOGEN_BINARY_DIR");
  return absl::StrCat(dir != nullptr ? dir : "build", "/bin/videogen-server");
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::vector<std::string>& args) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  char log_template[] = "/tmp/videogen_server_log_XXXXXX";
  const int log_fd = mkstemp(log_template);
  if (log_fd < 0) return absl::InternalError("mkstemp failed");
  p->log_path_ = log_template;
  int out[2];
  if (pipe(out) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> argv_s = {ServerBinaryPath()};
  for (const char* flag : {"--listen", "--metrics-listen"}) {
    if (std::find(args.begin(), args.end(), flag) == args.end()) argv_s.insert(argv_s.end(), {flag, "127.0.0.1:0"});
  }
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  if (std::find(args.begin(), args.end(), "--state-dir") == args.end()) {
    char state_template[] = "/tmp/videogen_state_XXXXXX";
    if (mkdtemp(state_template) == nullptr) return absl::InternalError("mkdtemp failed");
    p->own_state_dir_ = state_template;
    argv_s.insert(argv_s.end(), {"--state-dir", p->own_state_dir_});
  }
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    close(log_fd);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(log_fd);
  p->pid_ = pid;
  std::string buffer;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (p->port_ == 0 || p->metrics_port_ == 0) {
    pollfd fd{out[0], POLLIN, 0};
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0 || poll(&fd, 1, wait_ms) <= 0) break;
    char chunk[512];
    const ssize_t n = read(out[0], chunk, sizeof(chunk));
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (int port = ParsePort(line, "listening on "); port != 0) p->port_ = port;
      if (int port = ParsePort(line, "metrics on "); port != 0) p->metrics_port_ = port;
    }
  }
  // Keep the read end open in the background? Not needed: the server prints nothing else on stdout.
  close(out[0]);
  if (p->port_ == 0 || p->metrics_port_ == 0) {
    const std::string logs = p->Logs();
    kill(pid, SIGKILL);
    p->Wait();
    return absl::InternalError(absl::StrCat("videogen-server did not report its ports; stderr:\n", logs));
  }
  return p;
}

ServerProcess::~ServerProcess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait();
  }
  if (!log_path_.empty()) unlink(log_path_.c_str());
  if (!own_state_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(own_state_dir_, ignored);
  }
}

int ServerProcess::Wait() {
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return -1;
  exited_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int ServerProcess::SignalAndWait(int signal) {
  kill(pid_, signal);
  return Wait();
}

std::string ServerProcess::Logs() const {
  std::ifstream in(log_path_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("connect to port ", port, " failed"));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::InternalError("write failed");
  }
  std::string response;
  char chunk[4096];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) > 0) response.append(chunk, static_cast<size_t>(n));
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return absl::InternalError("malformed HTTP response");
  return response.substr(body + 4);
}

}  // namespace videogen::testing
