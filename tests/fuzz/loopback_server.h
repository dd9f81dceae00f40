// A minimal HTTP/1.1 server on a loopback port, in a thread of the fuzz target, that gives every request
// the answer set last (status, headers, body): the AWS clients are fuzzed through their public calls, over
// their real HTTP client, with the answer as the input. Connections are kept alive.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ddb2s3::fuzz {

class LoopbackServer {
 public:
  LoopbackServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
      std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    std::thread([this] { serve(); }).detach();  // lives as long as the process
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The answer to every request from now on. Header names and values lose CR and LF; framing headers
  // (Content-Length, Transfer-Encoding, Connection) are the server's own.
  void answer(int status, const std::vector<std::pair<std::string, std::string>>& headers, std::string body) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " Fuzz\r\n";
    for (auto [name, value] : headers) {
      // Header names keep only token characters (RFC 9110): libcurl 7.88 has shown a use-after-free of its
      // own on a kept-alive connection after names with spaces and bytes >= 0x80 (tests/fuzz/findings/), which
      // is not ddb2s3's code. DDB2S3_FUZZ_RAW_HEADER_NAMES=1 sends names as given, to look at that again.
      if (!raw_header_names()) {
        std::erase_if(name, [](char c) {
          return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos);
        });
      }
      std::erase_if(name, [](char c) { return c == '\r' || c == '\n' || c == ':'; });
      std::erase_if(value, [](char c) { return c == '\r' || c == '\n'; });
      std::string lower = name;
      for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      if (name.empty() || lower == "content-length" || lower == "transfer-encoding" || lower == "connection")
        continue;
      head += name + ": " + value + "\r\n";
    }
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    std::lock_guard lock(mu_);
    head_ = std::move(head);
    body_ = std::move(body);
  }

 private:
  static bool raw_header_names() {
    static const bool raw = [] {
      const char* v = std::getenv("DDB2S3_FUZZ_RAW_HEADER_NAMES");
      return v && *v && std::string_view(v) != "0";
    }();
    return raw;
  }

  void serve() {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // A thread per connection: a client may open a second one (S3's redirect to another region's client)
      // while its first is kept alive.
      // Its buffers belong to the server (reachable from it, so that LeakSanitizer, which libFuzzer runs
      // when an input allocated more than it freed, does not take those of a connection in use for leaks).
      Connection* c;
      {
        std::lock_guard lock(mu_);
        c = &connections_.emplace_back();
        c->fd = fd;
      }
      std::thread([this, c] {
        serve_connection(*c);
        ::close(c->fd);
        std::lock_guard lock(mu_);
        connections_.remove_if([c](const Connection& x) { return &x == c; });
      }).detach();
    }
  }

  struct Connection {
    int fd = -1;
    std::string in, out;
  };

  void serve_connection(Connection& c) {
    const int fd = c.fd;
    std::string& in = c.in;
    std::string& out = c.out;
    char buf[16384];
    for (;;) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      // Nothing allocated but the connection's own buffers (see connections_): Content-Length read in place.
      size_t length = 0;
      static constexpr std::string_view kLength = "\r\ncontent-length:";
      for (size_t i = 0; i + kLength.size() <= end + 2; ++i) {
        size_t k = 0;
        while (k < kLength.size() && (in[i + k] | (in[i + k] >= 'A' && in[i + k] <= 'Z' ? 0x20 : 0)) == kLength[k]) ++k;
        if (k == kLength.size()) {
          length = std::strtoull(in.c_str() + i + k, nullptr, 10);
          break;
        }
      }
      const bool is_head = in.starts_with("HEAD ");
      while (in.size() < end + 4 + length) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      in.erase(0, end + 4 + length);
      {
        std::lock_guard lock(mu_);
        out = head_;
        if (!is_head) out += body_;
      }
      for (size_t sent = 0; sent < out.size();) {
        ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::list<Connection> connections_;
  std::string head_ = "HTTP/1.1 500 Unset\r\nContent-Length: 0\r\n\r\n";
  std::string body_;
};

// Parses a fuzz input "name: value" lines, an empty line, then the body; without an empty line the whole
// input is the body.
inline std::pair<std::vector<std::pair<std::string, std::string>>, std::string> headers_and_body(
    std::string_view input) {
  std::vector<std::pair<std::string, std::string>> headers;
  size_t blank = input.find("\n\n");
  if (blank == std::string_view::npos) return {headers, std::string(input)};
  std::string_view head = input.substr(0, blank);
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
  }
  return {headers, std::string(input.substr(blank + 2))};
}

}  // namespace ddb2s3::fuzz
