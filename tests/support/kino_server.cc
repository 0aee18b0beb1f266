#include "tests/support/kino_server.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kino::testing {
std::string KinoBinaryPath() {
  const char* env = std::getenv("KINO_BINARY");
  return env != nullptr && *env != '\0' ? env : "build/kino";
}

std::string CreateApiToken(const KinoServer& server, const std::string& account,
                           const std::string& name, std::string* output) {
  int exit_code = -1;
  std::string out =
      CaptureCommand("KINO_DATA_DIR=" + server.data_dir() + "/data " + KinoBinaryPath() +
                         " tokens create --account " + account + " --name " + name + " 2>&1",
                     &exit_code);
  if (output != nullptr) {
    *output = out;
  }
  size_t at = out.find("\ntoken ", out.find("token id"));
  if (exit_code != 0 || at == std::string::npos) {
    return "";
  }
  return out.substr(at + 7, out.find('\n', at + 7) - at - 7);
}

namespace {

// The environment of the child: ours, minus any KINO_* (so a developer's shell does not leak
// into tests), plus the test defaults and the test's own settings.
std::vector<std::string> ChildEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos || kv.rfind("KINO_", 0) == 0) {
      continue;
    }
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) {
    env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) {
    out.push_back(k + "=" + v);
  }
  return out;
}

// Reads the child's stdout until the "listening on" line; the rest is drained by a thread.
std::string ReadAddress(int fd, std::chrono::seconds timeout, std::string* before) {
  std::string buffer;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string marker = "kino: listening on ";
  while (std::chrono::steady_clock::now() < deadline) {
    char chunk[512];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      size_t at = buffer.find(marker);
      size_t eol = at == std::string::npos ? at : buffer.find('\n', at);
      if (eol != std::string::npos) {
        *before = buffer.substr(0, at);
        return buffer.substr(at + marker.size(), eol - at - marker.size());
      }
      continue;
    }
    if (n == 0) {
      return "";  // the child exited
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

}  // namespace

KinoServer::KinoServer(Options options) : options_(std::move(options)) {}

KinoServer::~KinoServer() {
  if (pid_ > 0) {
    Stop(SIGTERM, std::chrono::seconds(20));
  }
}

bool KinoServer::Start() {
  std::map<std::string, std::string> env = {
      {"KINO_LISTEN", "127.0.0.1:0"},    {"KINO_DATA_DIR", data_.path() + "/data"},
      {"KINO_ACCOUNT_ID", kTestAccount}, {"KINO_API_TOKEN", kTestToken},
      {"KINO_LADDER", "360,240"},        {"KINO_X264_PRESET", "ultrafast"},
  };
  for (const auto& [k, v] : options_.env) {
    env[k] = v;
  }
  std::vector<std::string> env_strings = ChildEnv(env);
  std::vector<std::string> arg_strings = wrapper_;
  arg_strings.push_back(KinoBinaryPath());
  arg_strings.push_back("serve");
  arg_strings.insert(arg_strings.end(), options_.args.begin(), options_.args.end());
  std::vector<char*> argv;
  for (auto& a : arg_strings) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  int out[2];
  if (pipe(out) != 0) {
    return false;
  }
  std::string log_path = data_.path() + "/kino.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    pid_ = -1;
    return false;
  }
  std::string address = ReadAddress(out[0], std::chrono::seconds(30), &startup_output_);
  // Keep draining stdout so the child never blocks on a full pipe.
  std::thread([fd = out[0]] {
    char sink[512];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
    close(fd);
  }).detach();
  if (address.empty()) {
    Kill9();
    return false;
  }
  url_ = address;  // printed as http://HOST:PORT
  return true;
}

int KinoServer::Stop(int signo, std::chrono::seconds wait) {
  if (pid_ <= 0) {
    return -1;
  }
  kill(pid_, signo);
  auto deadline = std::chrono::steady_clock::now() + wait;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill9();
  return -1;
}

void KinoServer::Kill9() {
  if (pid_ <= 0) {
    return;
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string KinoServer::api() const {
  return url_ + "/client/v4/accounts/" + kTestAccount + "/stream";
}

std::string KinoServer::log() const {
  return ReadFile(data_.path() + "/kino.log");
}

HttpResponse KinoServer::ApiGet(const std::string& path) const {
  return Get(api() + path, Auth());
}

HttpResponse KinoServer::ApiPost(const std::string& path, const std::string& json_body) const {
  HeaderList headers = Auth();
  headers.emplace_back("Content-Type", "application/json");
  return Post(api() + path, json_body, headers);
}

HttpResponse KinoServer::ApiDelete(const std::string& path) const {
  return Delete(api() + path, Auth());
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool RunFfmpeg(const std::string& args) {
  std::string cmd = "ffmpeg -nostdin -y -loglevel error " + args;
  return std::system(cmd.c_str()) == 0;
}

bool MakeTestVideo(const std::string& path, double seconds, const std::string& size) {
  std::ostringstream args;
  args << "-f lavfi -i testsrc2=size=" << size << ":rate=25:duration=" << seconds
       << " -f lavfi -i sine=frequency=440:sample_rate=48000:duration=" << seconds
       << " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -c:a aac -b:a 96k -shortest "
       << path;
  return RunFfmpeg(args.str());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

std::string CaptureCommand(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    if (exit_code != nullptr) {
      *exit_code = -1;
    }
    return out;
  }
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    out.append(buf, n);
  }
  int status = pclose(p);
  if (exit_code != nullptr) {
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return out;
}

std::string UploadFile(const KinoServer& server, const std::string& path) {
  std::string content_type;
  std::string body = MultipartBody("file", "video.mp4", ReadFile(path), &content_type);
  HeaderList headers = server.Auth();
  headers.emplace_back("Content-Type", content_type);
  HttpResponse r = Post(server.api(), body, headers);
  nlohmann::json j = r.Json();
  if (r.status != 200 || !j.is_object() || !j["result"].is_object()) {
    return "";
  }
  return j["result"].value("uid", "");
}

nlohmann::json WaitForState(const KinoServer& server, const std::string& uid,
                            const std::string& state, std::chrono::milliseconds timeout) {
  nlohmann::json last;
  WaitFor(
      [&] {
        HttpResponse r = server.ApiGet("/" + uid);
        nlohmann::json j = r.Json();
        if (!j.is_object() || !j["result"].is_object()) {
          return false;
        }
        last = j["result"];
        std::string now = last["status"].value("state", "");
        return now == state || now == "error";
      },
      timeout);
  return last;
}

}  // namespace kino::testing
