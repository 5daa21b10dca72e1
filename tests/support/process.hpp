// Child processes for tests: run a command to completion, temp folders, free ports.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace todo::test {

/// How a finished command ended: `status` is its exit code, or 128 + the signal that killed it.
struct ProcessResult {
  int status = -1;
  std::string output;  // stdout and stderr, interleaved
};

/// Options of run_process.
struct RunOptions {
  std::string input;                           // written to the child's stdin
  std::string cwd;                             // working folder; empty: unchanged
  std::chrono::milliseconds timeout{120'000};  // the child is killed after this
};

/// Runs `argv` (argv[0] looked up in PATH) to completion and captures its output. Throws when it cannot
/// start.
ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options = {});

/// `argv` prefixed with `runuser -u postgres --` when we are root (PostgreSQL refuses to run as root).
std::vector<std::string> as_postgres(std::vector<std::string> argv);

/// The exit code of a waitpid() status, or 128 + signal.
int decode_wait_status(int status);

/// A TCP port that was free a moment ago on 127.0.0.1.
int free_tcp_port();

/// Creates a fresh folder /tmp/<prefix>XXXXXX (TODO_TEST_TMPDIR instead of /tmp when set) and returns its
/// path.
std::string make_temp_dir(const std::string& prefix);

/// The environment of this process as a map, minus the variables that configure todo-server (TODO_*,
/// DATABASE_URL, KAFKA_BROKERS), so that a developer's shell does not leak into a test.
std::map<std::string, std::string> clean_environment();

/// Forks and execs `argv` with `env`; the child's stdin is /dev/null and its stdout+stderr go to `out_fd`.
/// The child is killed when the thread that started it exits (PR_SET_PDEATHSIG). Returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, int out_fd);

}  // namespace todo::test
