// A throwaway PostgreSQL 15 cluster: initdb + pg_ctl as the postgres user, libpq for administration.
#include "support/postgres.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "support/process.hpp"

namespace todo::test {
namespace {

std::string default_bin_dir() {
  if (const char* d = std::getenv("TODO_PG_BINDIR"); d != nullptr && *d != '\0') return d;
  return "/usr/lib/postgresql/15/bin";
}

void chown_to_postgres(const std::string& path) {
  if (geteuid() != 0) return;
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("TestPostgres: no 'postgres' user (install postgresql)");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("TestPostgres: cannot chown " + path + " to postgres");
  }
}

void check(const ProcessResult& r, const std::string& what) {
  if (r.status != 0) {
    throw std::runtime_error("TestPostgres: " + what + " failed (status " + std::to_string(r.status) +
                             "):\n" + r.output);
  }
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

/// A child that waits for EOF on its stdin (our end closes when we die, whatever the cause), then stops the
/// cluster and removes the folder. A clean shutdown has done both already, so it then finds nothing to do.
int start_watchdog(const std::string& pg_ctl, const std::string& data, const std::string& dir) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("TestPostgres: pipe2 failed");
  std::string stop = "runuser -u postgres -- ";
  if (geteuid() != 0) stop.clear();
  const std::string script = "read -r _; if [ -f '" + data + "/postmaster.pid' ]; then " + stop + "'" +
                             pg_ctl + "' stop -D '" + data + "' -m immediate >/dev/null 2>&1; fi" +
                             (std::getenv("TODO_KEEP_TEST_DIRS") == nullptr ? "; rm -rf '" + dir + "'" : "");
  const std::string sh = "/bin/sh";
  std::vector<char*> argv = {const_cast<char*>(sh.c_str()), const_cast<char*>("-c"),
                             const_cast<char*>(script.c_str()), nullptr};
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("TestPostgres: fork failed");
  if (pid == 0) {
    // A new session keeps the watchdog out of the reach of signals sent to our process group.
    setsid();
    dup2(fds[0], 0);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    close_range(3, ~0U, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[0]);
  return fds[1];
}

}  // namespace

TestPostgres::TestPostgres() : bin_dir_(default_bin_dir()) {
  if (!std::filesystem::exists(bin("initdb"))) {
    throw std::runtime_error("TestPostgres: " + bin("initdb") + " not found (run scripts/deps.sh)");
  }
  dir_ = make_temp_dir("todo-pg-");
  data_ = dir_ + "/data";
  chown_to_postgres(dir_);
  port_ = free_tcp_port();
  watchdog_fd_ = start_watchdog(bin("pg_ctl"), data_, dir_);
  check(run_process(as_postgres({bin("initdb"), "-D", data_, "-A", "trust", "-U", "postgres", "--no-sync",
                                 "-E", "UTF8", "--locale=C.UTF-8"}),
                    {.input = {}, .cwd = dir_, .timeout = std::chrono::milliseconds(120'000)}),
        "initdb");
  start();
}

TestPostgres::~TestPostgres() {
  thaw();
  if (running_) {
    run_process(as_postgres({bin("pg_ctl"), "stop", "-D", data_, "-m", "immediate", "-w"}),
                {.input = {}, .cwd = dir_, .timeout = std::chrono::milliseconds(60'000)});
    running_ = false;
  }
  if (std::getenv("TODO_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  if (watchdog_fd_ >= 0) close(watchdog_fd_);
}

std::string TestPostgres::bin(const std::string& tool) const {
  return bin_dir_ + "/" + tool;
}

void TestPostgres::start() {
  if (running_) return;
  const std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ +
                           " -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
                           " -c full_page_writes=off -c max_connections=300";
  check(run_process(as_postgres({bin("pg_ctl"), "start", "-D", data_, "-w", "-t", "60", "-l",
                                 dir_ + "/postgres.log", "-o", opts}),
                    {.input = {}, .cwd = dir_, .timeout = std::chrono::milliseconds(90'000)}),
        "pg_ctl start (log: " + log() + ")");
  running_ = true;
}

void TestPostgres::stop() {
  if (!running_) return;
  check(run_process(as_postgres({bin("pg_ctl"), "stop", "-D", data_, "-m", "fast", "-w", "-t", "60"}),
                    {.input = {}, .cwd = dir_, .timeout = std::chrono::milliseconds(90'000)}),
        "pg_ctl stop");
  running_ = false;
}

namespace {

/// The postmaster of the cluster in `data` and its children, the postmaster first.
std::vector<pid_t> cluster_processes(const std::string& data) {
  std::ifstream pidfile(data + "/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0)
    throw std::runtime_error("TestPostgres: no postmaster.pid in " + data);
  std::vector<pid_t> pids{postmaster};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster) pids.push_back(std::stoi(name));
  }
  return pids;
}

}  // namespace

void TestPostgres::freeze() {
  if (!running_ || frozen_) return;
  for (pid_t pid : cluster_processes(data_))  // the postmaster first: it starts no child afterwards
    kill(pid, SIGSTOP);
  frozen_ = true;
}

void TestPostgres::thaw() {
  if (!frozen_) return;
  for (pid_t pid : cluster_processes(data_))
    kill(pid, SIGCONT);
  frozen_ = false;
}

std::string TestPostgres::url(const std::string& name) const {
  return "postgresql:///" + name + "?host=" + dir_ + "&port=" + std::to_string(port_) + "&user=postgres";
}

std::string TestPostgres::query(const std::string& name, const std::string& sql) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url(name).c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("TestPostgres: connect to " + name + ": " + PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("TestPostgres: " + sql + ": " + PQresultErrorMessage(res.get()));
  }
  if (status == PGRES_TUPLES_OK && PQntuples(res.get()) > 0 && PQnfields(res.get()) > 0) {
    return PQgetvalue(res.get(), 0, 0);
  }
  return "";
}

std::string TestPostgres::create_database(const std::string& name) {
  if (!valid_name(name)) throw std::invalid_argument("TestPostgres: bad database name '" + name + "'");
  query("postgres", "CREATE DATABASE " + name);
  return url(name);
}

std::string TestPostgres::log() const {
  std::ifstream in(dir_ + "/postgres.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TestPostgres& TestPostgres::shared() {
  static TestPostgres* instance = [] {
    auto* pg = new TestPostgres();
    std::atexit([] { delete instance; });
    return pg;
  }();
  return *instance;
}

}  // namespace todo::test
