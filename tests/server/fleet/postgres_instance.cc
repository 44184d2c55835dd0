#include "tests/server/fleet/postgres_instance.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace videogen::testing {

namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The account to run PostgreSQL as when we are root (uid, gid), or nothing.
struct Account {
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop = false;
};
Account RunAs() {
  Account a;
  if (geteuid() != 0) return a;
  for (const char* name : {"postgres", "nobody"}) {
    if (const passwd* pw = getpwnam(name)) {
      a.uid = pw->pw_uid;
      a.gid = pw->pw_gid;
      a.drop = true;
      return a;
    }
  }
  return a;
}

// Forks `argv` with stdout and stderr to `log`, as `account`; with
// `die_with_parent` it gets SIGQUIT (PostgreSQL's immediate shutdown) when
// this process dies. Returns the child's pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv_s, const std::string& log, const Account& account,
            bool die_with_parent) {
  std::vector<char*> argv;
  for (const auto& a : argv_s) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  if (account.drop && (setgid(account.gid) != 0 || setuid(account.uid) != 0)) _exit(126);
  // After setuid: changing credentials clears the parent-death signal.
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (getppid() != parent) _exit(125);
  }
  execv(argv[0], argv.data());
  _exit(127);
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string PostgresBinDir() {
  auto has_server = [](const fs::path& dir) {
    return fs::exists(dir / "initdb") && fs::exists(dir / "postgres");
  };
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    char line[512] = {};
    const bool read = fgets(line, sizeof(line), p) != nullptr;
    pclose(p);
    std::string dir = read ? line : "";
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
    if (!dir.empty() && has_server(dir)) return dir;
  }
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (has_server(entry.path() / "bin")) found.push_back(entry.path() / "bin");
  }
  if (found.empty()) return "";
  // Newest major version: compare numerically ("9.6" < "15" < "17").
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::atof(a.parent_path().filename().c_str()) < std::atof(b.parent_path().filename().c_str());
  });
  return found.back().string();
}

absl::StatusOr<std::unique_ptr<PostgresInstance>> PostgresInstance::Start() {
  const std::string bin = PostgresBinDir();
  if (bin.empty()) {
    return absl::NotFoundError("PostgreSQL's initdb/postgres not found (install postgresql: scripts/bootstrap)");
  }
  std::unique_ptr<PostgresInstance> pg(new PostgresInstance());
  char dir[] = "/tmp/videogen_pg_XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
  pg->dir_ = dir;
  const Account account = RunAs();
  if (account.drop && chown(dir, account.uid, account.gid) != 0) return absl::InternalError("chown failed");
  const std::string log = pg->dir_ + "/log";
  const std::string data = pg->dir_ + "/data";
  const pid_t initdb = Spawn({bin + "/initdb", "-D", data, "-U", "videogen", "--auth=trust", "-E", "UTF8",
                              "--no-sync", "--no-instructions"},
                             log, account, /*die_with_parent=*/false);
  if (initdb < 0 || WaitExit(initdb) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed:\n", ReadAll(log)));
  }
  // Durability is not under test: fsync off keeps the tests fast.
  pg->pid_ = Spawn({bin + "/postgres", "-D", data, "-k", pg->dir_, "-c", "listen_addresses=", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"},
                   log, account, /*die_with_parent=*/true);
  if (pg->pid_ < 0) return absl::InternalError("fork failed");
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (PQping(pg->dsn().c_str()) != PQPING_OK) {
    int status = 0;
    if (waitpid(pg->pid_, &status, WNOHANG) == pg->pid_) {
      pg->pid_ = -1;
      return absl::InternalError(absl::StrCat("postgres exited at start:\n", ReadAll(log)));
    }
    if (absl::Now() > deadline) return absl::InternalError(absl::StrCat("postgres did not start:\n", ReadAll(log)));
    absl::SleepFor(absl::Milliseconds(20));  // polling for readiness, with a deadline
  }
  return pg;
}

PostgresInstance::~PostgresInstance() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        kill(pid_, SIGQUIT);
        WaitExit(pid_);
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::string PostgresInstance::dsn(const std::string& db) const {
  return absl::StrCat("postgresql:///", db, "?host=", dir_, "&user=videogen");
}

absl::StatusOr<std::string> PostgresInstance::CreateDatabase() {
  const std::string name = absl::StrCat("db", ++databases_);
  absl::StatusOr<std::string> done = Query(absl::StrCat("CREATE DATABASE ", name));
  if (!done.ok()) return done.status();
  return name;
}

absl::StatusOr<std::string> PostgresInstance::Query(const std::string& sql, const std::string& db) const {
  PGconn* conn = PQconnectdb(dsn(db).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::InternalError(error);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  absl::StatusOr<std::string> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    out = PQntuples(r) > 0 ? std::string(PQgetvalue(r, 0, 0)) : std::string();
  } else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
    out = std::string();
  } else {
    out = absl::InternalError(PQresultErrorMessage(r));
  }
  PQclear(r);
  PQfinish(conn);
  return out;
}

}  // namespace videogen::testing
