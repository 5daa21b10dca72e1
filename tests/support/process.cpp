// Child processes for tests: fork/exec with only async-signal-safe calls between the two.
#include "support/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace todo::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// argv/envp as the NULL-terminated arrays execvpe wants; built before fork().
struct CStrings {
  explicit CStrings(const std::vector<std::string>& v) : storage(v) {
    for (auto& s : storage)
      ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
};

std::vector<std::string> env_strings(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env)
    out.push_back(k + "=" + v);
  return out;
}

/// In the child: wire fds, exec, or _exit(127). Only async-signal-safe calls.
[[noreturn]] void exec_child(int in_fd, int out_fd, const char* cwd, char* const* argv, char* const* envp,
                             bool die_with_parent, pid_t parent) {
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
  }
  if (in_fd >= 0) {
    dup2(in_fd, 0);
  } else {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
  }
  dup2(out_fd, 1);
  dup2(out_fd, 2);
  close_range(3, ~0U, 0);
  if (cwd != nullptr && chdir(cwd) != 0) _exit(127);
  if (envp != nullptr) {
    execvpe(argv[0], argv, envp);
  } else {
    execvp(argv[0], argv);
  }
  static const char kMsg[] = "exec failed\n";
  (void)!write(2, kMsg, sizeof kMsg - 1);
  _exit(127);
}

}  // namespace

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  if (geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  int in_pipe[2];
  int out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  CStrings args(argv);
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) exec_child(in_pipe[0], out_pipe[1], cwd, args.ptrs.data(), nullptr, false, parent);
  close(in_pipe[0]);
  close(out_pipe[1]);
  int in_fd = in_pipe[1];
  const int out_fd = out_pipe[0];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (options.input.empty()) {
    close(in_fd);
    in_fd = -1;
  }

  ProcessResult result;
  std::size_t written = 0;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false;
  bool out_open = true;
  while (out_open) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int n = poll(fds, in_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (n <= 0) continue;
    if (fds[0].revents != 0) {
      char buf[4096];
      const ssize_t r = read(out_fd, buf, sizeof buf);
      if (r > 0) {
        result.output.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        out_open = false;
      }
    }
    if (in_fd >= 0 && fds[1].revents != 0) {
      const ssize_t w = write(in_fd, options.input.data() + written, options.input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == options.input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out_fd);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  result.status = decode_wait_status(status);
  if (timed_out) result.output += "\n[run_process: killed after timeout]\n";
  return result;
}

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, int out_fd) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
  CStrings args(argv);
  CStrings envs(env_strings(env));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) exec_child(-1, out_fd, nullptr, args.ptrs.data(), envs.ptrs.data(), true, parent);
  return pid;
}

int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw_errno("bind");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TODO_TEST_TMPDIR");
  std::string templ = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw_errno("mkdtemp " + templ);
  return templ;
}

std::map<std::string, std::string> clean_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (name.rfind("TODO_", 0) == 0 || name == "DATABASE_URL" || name == "KAFKA_BROKERS") continue;
    env.emplace(std::move(name), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace todo::test
