#include "http/curl_guard.h"

#include <sys/socket.h>

#include "http/address_guard.h"

namespace kino::http {
namespace {

// Every connection curl opens passes here with its resolved address, so the guard sees what is
// really connected to, whatever DNS answered earlier or a redirect pointed at.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, struct curl_sockaddr* addr) {
  auto* guard = static_cast<CurlGuard*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) {
    return CURL_SOCKET_BAD;
  }
  if (!guard->allow_private_addresses &&
      !IsPublicAddress(&addr->addr, static_cast<socklen_t>(addr->addrlen))) {
    guard->refused_address = true;
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* guard = static_cast<CurlGuard*>(user);
  if (guard->cancelled != nullptr && *guard->cancelled && (*guard->cancelled)()) {
    guard->was_cancelled = true;
    return 1;  // aborts with CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

}  // namespace

void InstallCurlGuard(CURL* curl, CurlGuard* guard) {
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OnOpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, guard);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, guard);
}

}  // namespace kino::http
