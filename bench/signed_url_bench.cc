// Signed-URL token verification against the cost of serving a 64 KiB range (Google Benchmark).
// Single-threaded: every figure is for one core.
//
//   BM_Rs256Verify            the RSA-2048 signature check alone (OpenSSL)
//   BM_ParseToken             structure, base64url, JSON, claims; no signature
//   BM_VerifyToken/rules:N    all of VerifySignedUrlToken with N access rules (the key and owner
//                             lookups answer from memory, as the key cache does after the first
//                             request; the database read of the key row is not included)
//   BM_Serve64KiBRange/...    one keep-alive GET with Range: bytes=0-65535 of a download from a
//                             running Kino, through the bare uid and through a token. Needs
//                             KINO_BENCH_URL, KINO_BENCH_UID and KINO_BENCH_TOKEN (set by
//                             bench/signed_urls.sh); skipped otherwise.
//
// The per-request difference between the two serving cases is what verification really costs a
// request, database read included; BM_VerifyToken is its CPU part.
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/signed_url.h"
#include "common/strings.h"

namespace {

using namespace kino::auth;  // NOLINT(google-build-using-namespace): benchmark file

constexpr char kKid[] = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
constexpr char kVideo[] = "ea95132c15732412d22c1476fa83f27a";
constexpr char kAccount[] = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = 1800000000;

struct Fixture {
  std::shared_ptr<const PublicKey> public_key;
  std::unique_ptr<PrivateKey> private_key;
};

const Fixture& Keys() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture();
    GeneratedSigningKey generated = GenerateSigningKey(kKid).value();
    f->public_key = PublicKey::FromPem(generated.public_pem).value();
    f->private_key = PrivateKey::FromBase64Pem(generated.pem_base64).value();
    return f;
  }();
  return *fixture;
}

// A token like the ones players send: numeric-string times, downloadable, `rules` ip.src rules
// that do not match the client (so every one is evaluated) and a final "any" allow.
std::string MakeToken(int rules) {
  TokenClaims claims;
  claims.sub = kVideo;
  claims.kid = kKid;
  claims.exp = kNow + 3600;
  claims.nbf = kNow - 3600;
  claims.has_nbf = true;
  claims.downloadable = true;
  for (int i = 0; i < rules; ++i) {
    AccessRule rule;
    rule.type = i + 1 == rules ? AccessRule::Type::kAny : AccessRule::Type::kIpSrc;
    rule.action = AccessRule::Action::kAllow;
    if (rule.type == AccessRule::Type::kIpSrc) {
      rule.networks = {ParseNetwork("198.51.100.0/24").value(),
                       ParseNetwork("2001:db8::/32").value()};
    }
    claims.access_rules.push_back(rule);
  }
  return SignToken(claims, *Keys().private_key, /*times_as_strings=*/true).value();
}

void BM_Rs256Verify(benchmark::State& state) {
  std::string token = MakeToken(0);
  ParsedToken parsed = ParseToken(token).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        Keys().public_key->VerifyRs256(parsed.signing_input, parsed.signature));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Rs256Verify);

void BM_ParseToken(benchmark::State& state) {
  std::string token = MakeToken(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseToken(token).ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseToken)->ArgName("rules")->Arg(0)->Arg(5);

void BM_VerifyToken(benchmark::State& state) {
  std::string token = MakeToken(static_cast<int>(state.range(0)));
  VerificationKey key{kAccount, Keys().public_key};
  KeyLookup keys = [&key](std::string_view) -> kino::Result<std::optional<VerificationKey>> {
    return std::optional<VerificationKey>(key);
  };
  VideoOwnerLookup owners = [](std::string_view) -> kino::Result<std::string> {
    return std::string(kAccount);
  };
  SignedUrlCheck check;
  check.token = token;
  check.use = TokenUse::kDownload;
  check.now_unix = kNow;
  check.client = ParseIp("192.0.2.10").value();
  for (auto _ : state) {
    kino::Result<TokenClaims> claims = VerifySignedUrlToken(check, keys, owners);
    if (!claims.ok()) {
      state.SkipWithError(claims.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyToken)->ArgName("rules")->Arg(0)->Arg(5);

// ---- serving a 64 KiB range from a running Kino ----

// One keep-alive HTTP/1.1 connection to 127.0.0.1.
class Connection {
 public:
  explicit Connection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~Connection() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }

  // Sends `request` and reads one response; returns its status (0 on a transport failure) and
  // the body size in *body_bytes.
  int RoundTrip(const std::string& request, size_t* body_bytes) {
    if (write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      return 0;
    }
    buffer_.clear();
    size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore()) {
        return 0;
      }
    }
    size_t length = ContentLength(buffer_.substr(0, header_end));
    while (buffer_.size() < header_end + 4 + length) {
      if (!ReadMore()) {
        return 0;
      }
    }
    *body_bytes = length;
    return std::atoi(buffer_.c_str() + 9);
  }

 private:
  bool ReadMore() {
    char chunk[128 * 1024];
    ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n <= 0) {
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  static size_t ContentLength(const std::string& headers) {
    std::string lower = kino::AsciiLower(headers);
    size_t at = lower.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::strtoull(lower.c_str() + at + 17, nullptr, 10);
  }

  int fd_ = -1;
  std::string buffer_;
};

void BM_Serve64KiBRange(benchmark::State& state, const char* id_variable) {
  const char* url = std::getenv("KINO_BENCH_URL");
  const char* id = std::getenv(id_variable);
  if (url == nullptr || id == nullptr) {
    state.SkipWithError("set KINO_BENCH_URL, KINO_BENCH_UID and KINO_BENCH_TOKEN");
    return;
  }
  std::string base(url);
  Connection connection(std::atoi(base.substr(base.rfind(':') + 1).c_str()));
  if (!connection.ok()) {
    state.SkipWithError("cannot connect to KINO_BENCH_URL");
    return;
  }
  std::string request = "GET /" + std::string(id) +
                        "/downloads/default.mp4 HTTP/1.1\r\nHost: bench\r\n"
                        "Range: bytes=0-65535\r\n\r\n";
  for (auto _ : state) {
    size_t bytes = 0;
    if (connection.RoundTrip(request, &bytes) != 206 || bytes != 65536) {
      state.SkipWithError("the range request did not answer 206 with 64 KiB");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65536);
}
BENCHMARK_CAPTURE(BM_Serve64KiBRange, uid, "KINO_BENCH_UID")->UseRealTime();
BENCHMARK_CAPTURE(BM_Serve64KiBRange, token, "KINO_BENCH_TOKEN")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
