// KinoServer: the real `kino serve` binary as a child process, for integration tests.
//
// Starts $KINO_BINARY (CTest sets it; default build/kino) on 127.0.0.1 port 0 with a fresh temp
// data directory, a known account and API token, and a small fast ladder (360,240 lines,
// x264 ultrafast) unless the test overrides them. Start() returns once the server printed its
// address. The destructor stops it with SIGTERM (then SIGKILL after a bound) and removes the
// data directory.
#ifndef KINO_TESTS_SUPPORT_KINO_SERVER_H_
#define KINO_TESTS_SUPPORT_KINO_SERVER_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace kino::testing {

inline constexpr const char* kTestAccount = "0123456789abcdef0123456789abcdef";
inline constexpr const char* kTestToken = "kino-test-token-0123456789abcdef";

class KinoServer {
 public:
  struct Options {
    std::map<std::string, std::string> env;  // added to (or replacing) the defaults
    std::vector<std::string> args;           // after `serve`
  };

  KinoServer() : KinoServer(Options{}) {}
  explicit KinoServer(Options options);
  ~KinoServer();
  KinoServer(const KinoServer&) = delete;
  KinoServer& operator=(const KinoServer&) = delete;

  // Starts the process and waits (up to 30 s) for its address. False, with log() telling why,
  // when it exits or does not answer.
  bool Start();
  // Sends `signo` and waits up to `wait` for the exit. Returns the exit status (128+signal
  // when killed), or -1 when it had to be killed with SIGKILL after the wait.
  int Stop(int signo = 15, std::chrono::seconds wait = std::chrono::seconds(30));
  // SIGKILL, as a crash would.
  void Kill9();
  // Start() again with the same data directory (a new port).
  bool Restart() { return Start(); }
  // The settings the next Start() uses (change them between Stop() and Restart()).
  Options& options() { return options_; }
  // Starts the binary through this command from now on, e.g. {"/usr/bin/prlimit",
  // "--nofile=64:64", "--"}; it must exec the rest of its arguments in the same process.
  void RunThrough(std::vector<std::string> wrapper) { wrapper_ = std::move(wrapper); }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // "http://127.0.0.1:PORT"
  const std::string& url() const { return url_; }
  // url() + "/client/v4/accounts/<account>/stream"
  std::string api() const;
  const std::string& data_dir() const { return data_.path(); }
  // Authorization header for the test account's token.
  HeaderList Auth() const { return {{"Authorization", std::string("Bearer ") + kTestToken}}; }
  // What the server printed on stdout before its address (the first-start credentials).
  const std::string& startup_output() const { return startup_output_; }
  // What the server wrote to stderr (its JSON log) so far.
  std::string log() const;

  // Convenience calls on the API, with the test token.
  HttpResponse ApiGet(const std::string& path) const;
  HttpResponse ApiPost(const std::string& path, const std::string& json_body) const;
  HttpResponse ApiDelete(const std::string& path) const;

 private:
  Options options_;
  TempDir data_;
  pid_t pid_ = -1;
  std::vector<std::string> wrapper_;
  std::string url_;
  std::string startup_output_;
};

// Polls `done` every 50 ms until it returns true or `timeout` passes. Returns the last result.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Runs the ffmpeg program (tests only) as `ffmpeg -y -loglevel error ARGS`. True on success.
bool RunFfmpeg(const std::string& args);

// Writes a small H.264/AAC MP4 test video (testsrc2 + sine) of `seconds` at `size` to `path`.
bool MakeTestVideo(const std::string& path, double seconds = 2,
                   const std::string& size = "320x240");

// Reads a whole file ("" when missing).
std::string ReadFile(const std::string& path);

// Writes `bytes` to `path`, replacing it. False when it could not.
bool WriteFile(const std::string& path, std::string_view bytes);

// Runs `cmd` with /bin/sh (tests only: the ffmpeg, ffprobe and openssl programs) and returns its
// standard output, "" when it could not start. Its exit status goes to *exit_code when given
// (-1 when it could not start).
std::string CaptureCommand(const std::string& cmd, int* exit_code = nullptr);

// The kino binary the tests run: $KINO_BINARY, else build/kino.
std::string KinoBinaryPath();

// Runs `kino tokens create --account ACCOUNT --name NAME` on the server's data directory (the
// account is made if new). Returns the token, or "" with the command's output in *output.
std::string CreateApiToken(const KinoServer& server, const std::string& account,
                           const std::string& name, std::string* output = nullptr);

// Uploads `path` with a basic multipart upload and returns the video's uid ("" on failure).
std::string UploadFile(const KinoServer& server, const std::string& path);

// Polls GET /stream/<uid> until status.state == state (or "error" when state differs). Returns
// the last video object seen.
nlohmann::json WaitForState(const KinoServer& server, const std::string& uid,
                            const std::string& state,
                            std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace kino::testing

#endif  // KINO_TESTS_SUPPORT_KINO_SERVER_H_
