// The todo-server binary as a child process: fork/exec, a pipe drained by a thread, signals and reaping.
#include "support/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "support/process.hpp"

namespace todo::test {

using namespace std::chrono_literals;

std::string ServerProcess::binary() {
  const char* bin = std::getenv("TODO_SERVER_BIN");
  if (bin == nullptr || *bin == '\0') {
    throw std::runtime_error("TODO_SERVER_BIN is not set (run the test through ctest)");
  }
  return bin;
}

ServerProcess::ServerProcess(std::map<std::string, std::string> env, std::vector<std::string> args) {
  ServerOptions options;
  options.env = std::move(env);
  options.args = std::move(args);
  start(std::move(options));
}

ServerProcess::ServerProcess(ServerOptions options) {
  start(std::move(options));
}

void ServerProcess::start(ServerOptions options) {
  auto env = clean_environment();
  env["TODO_HTTP_ADDR"] = "127.0.0.1:0";
  env["TODO_JWT_SECRET"] = std::string(kTestJwtSecret);
  for (auto& [k, v] : options.env)
    env[k] = v;

  std::vector<std::string> argv = {binary(), options.command};
  argv.insert(argv.end(), options.args.begin(), options.args.end());

  dir_ = make_temp_dir("todo-server-");
  log_path_ = dir_ + "/server.log";

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("ServerProcess: pipe2 failed");
  pid_ = spawn(argv, env, fds[1]);
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { drain(fd); });
  if (options.wait_ready) {
    try {
      wait_ready(options.ready_timeout);
    } catch (...) {
      kill9();
      if (reader_.joinable()) reader_.join();
      throw;
    }
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exit_status_) kill9();
  if (reader_.joinable()) reader_.join();
  if (!dir_.empty() && std::getenv("TODO_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void ServerProcess::drain(int fd) {
  std::ofstream log(log_path_, std::ios::app);
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log.write(buf, n);
    log.flush();
    std::lock_guard lock(mutex_);
    output_.append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mutex_);
  output_closed_ = true;
  changed_.notify_all();
}

bool ServerProcess::wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || output_closed_;
  }) && output_.find(needle) != std::string::npos;
}

void ServerProcess::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  wait_listening(timeout);
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (wait_for_output("serving the API", std::max(left, std::chrono::milliseconds(0)))) return;
  const std::string out = output();
  const auto status = wait_exit(100ms);
  throw std::runtime_error(std::string("ServerProcess: listening, but no 'serving the API' ") +
                           (status ? "(exited with status " + std::to_string(*status) + ")"
                                   : "within " + std::to_string(timeout.count()) + " ms") +
                           "; output:\n" + out);
}

void ServerProcess::wait_listening(std::chrono::milliseconds timeout) {
  static const std::regex kListening(
      R"(listening on (http://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):([0-9]+)))");
  std::smatch match;
  std::unique_lock lock(mutex_);
  const bool found = changed_.wait_for(
      lock, timeout, [&] { return std::regex_search(output_, match, kListening) || output_closed_; });
  if (!found || !std::regex_search(output_, match, kListening)) {
    const std::string out = output_;
    lock.unlock();
    const auto status = wait_exit(100ms);
    throw std::runtime_error(std::string("ServerProcess: no 'listening on http://HOST:PORT' ") +
                             (status ? "(exited with status " + std::to_string(*status) + ")"
                                     : "within " + std::to_string(timeout.count()) + " ms") +
                             "; output:\n" + out);
  }
  base_url_ = match[1].str();
  host_ = match[2].str();
  port_ = std::stoi(match[3].str());
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = decode_wait_status(status);
      wait_output_closed();
      return exit_status_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

bool ServerProcess::running() {
  return pid_ > 0 && !wait_exit(0ms);
}

void ServerProcess::send_signal(int signal) {
  if (running()) kill(pid_, signal);
}

int ServerProcess::terminate(std::chrono::milliseconds timeout) {
  send_signal(SIGTERM);
  if (auto status = wait_exit(timeout)) return *status;
  {
    std::lock_guard lock(mutex_);
    output_ += "\n[test: no exit within " + std::to_string(timeout.count()) + " ms of SIGTERM; SIGKILL]\n";
  }
  kill9();
  return exit_status_.value_or(-1);
}

void ServerProcess::kill9() {
  if (pid_ <= 0 || exit_status_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return;
  }
  exit_status_ = decode_wait_status(status);
  wait_output_closed();
}

void ServerProcess::wait_output_closed() {
  // The process is gone, but the reader may not have drained the pipe yet.
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, 5s, [&] { return output_closed_; });
}

std::string ServerProcess::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

}  // namespace todo::test
