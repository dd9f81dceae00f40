// A small HTTP server on a free loopback port, in a thread of the test process, for the cases no
// real server covers (credential endpoints, STS, faults, abort paths). Stopped by its destructor.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace ddb2s3::testing {

class TestHttpServer {
 public:
  TestHttpServer() {
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(100000);
    // An answer given before the request's body was read (a pre-routing handler's) leaves the body on
    // the kept-alive connection, where it becomes the start of the next request, answered 400 without
    // reaching any handler; or not, when the client had not sent it yet and closes instead. That made
    // tests flaky: fail every time instead.
    server_.set_logger([](const httplib::Request& req, const httplib::Response&) {
      const std::string length = req.get_header_value("Content-Length");
      if (req.body.empty() && std::strtoull(length.c_str(), nullptr, 10) > 0) {
        ADD_FAILURE() << "the test server answered " << req.method << " " << req.path
                      << " without reading its " << length
                      << "-byte body: answer from serve_all() or a method's handler instead";
      }
    });
  }
  ~TestHttpServer() { stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Register handlers on this before start(). Not set_pre_routing_handler(): it is called before the
  // request's body is read (see the constructor).
  httplib::Server& server() { return server_; }

  // One handler for requests of every method (HEAD goes with GET), called once the whole request,
  // body included, has been read.
  void serve_all(const httplib::Server::Handler& handler) {
    server_.Get(".*", handler).Post(".*", handler).Put(".*", handler).Patch(".*", handler);
    server_.Delete(".*", handler).Options(".*", handler);
  }

  // Binds 127.0.0.1 on a free port and serves in a background thread; returns once it listens.
  void start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();  // the socket already listens; wait for the loop
  }
  void stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ddb2s3::testing
