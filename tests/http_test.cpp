// HttpClient against an in-process loopback server: bodies, headers, keep-alive, failures.
#include "aws/http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include "support/files.h"
#include "support/http_server.h"
#include "version.h"

namespace ddb2s3 {
namespace {

using testing::TestHttpServer;

// What the server saw of one request.
struct Seen {
  std::mutex mu;
  std::string method, body, user_agent, content_type;
  bool has_expect = false, has_content_type = false, has_accept_encoding = false;
  std::string custom;
  std::vector<int> ports;

  void record(const httplib::Request& req) {
    std::lock_guard lock(mu);
    method = req.method;
    body = req.body;
    user_agent = req.get_header_value("User-Agent");
    has_expect = req.has_header("Expect");
    has_content_type = req.has_header("Content-Type");
    content_type = req.get_header_value("Content-Type");
    has_accept_encoding = req.has_header("Accept-Encoding");
    custom = req.get_header_value("X-Custom");
    ports.push_back(req.remote_port);
  }
};

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto echo = [this](const httplib::Request& req, httplib::Response& res) {
      seen_.record(req);
      res.set_header("X-Amzn-RequestId", "req-" + req.method);
      res.set_content(req.method + ":" + req.body, "application/octet-stream");
    };
    server_.server().Get("/echo", echo);
    server_.server().Put("/echo", echo);
    server_.server().Post("/echo", echo);
    server_.server().Delete("/echo", echo);
    server_.server().Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Only-Big", "yes");
      res.set_content(std::string(200'000, 'x'), "text/plain");
    });
    server_.server().Get("/status/404", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("missing", "text/plain");
    });
    server_.start();
  }

  HttpRequest request(std::string method, std::string path, std::string_view body = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.url = server_.url() + path;
    r.body = body;
    return r;
  }

  Seen seen_;
  TestHttpServer server_;
};

TEST_F(HttpTest, GetReturnsStatusBodyAndLowerCasedHeaders) {
  HttpClient client;
  HttpResponse res;
  HttpRequest req = request("GET", "/echo");
  req.set_header("X-Custom", "hello world");
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "GET:");
  EXPECT_EQ(res.header("x-amzn-requestid"), "req-GET");
  EXPECT_EQ(res.header("content-type"), "application/octet-stream");
  EXPECT_EQ(seen_.custom, "hello world");
  EXPECT_FALSE(seen_.has_accept_encoding);  // raw bytes: no compression negotiated
}

TEST_F(HttpTest, NonSuccessStatusIsAnAnswerNotATransportError) {
  HttpClient client;
  HttpResponse res;
  HttpRequest req = request("GET", "/status/404");
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, "missing");
}

TEST_F(HttpTest, PutSendsTheBodyAsIsWithoutExpectContinue) {
  std::string body(300'000, '\0');  // binary, larger than one buffer, with NULs
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 31);
  HttpClient client;
  HttpResponse res;
  HttpRequest req = request("PUT", "/echo", body);
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(seen_.method, "PUT");
  EXPECT_EQ(seen_.body, body);
  EXPECT_EQ(res.body, "PUT:" + body);
  EXPECT_FALSE(seen_.has_expect);
}

TEST_F(HttpTest, PostSendsTheBodyAndOnlyTheContentTypeGiven) {
  const std::string json = R"({"TableName":"t"})";
  HttpClient client;
  HttpResponse res;
  HttpRequest req = request("POST", "/echo", json);
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(seen_.body, json);
  EXPECT_FALSE(seen_.has_content_type);  // no application/x-www-form-urlencoded invented by curl
  EXPECT_FALSE(seen_.has_expect);

  req.set_header("Content-Type", "application/x-amz-json-1.0");
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(seen_.content_type, "application/x-amz-json-1.0");
  EXPECT_EQ(res.body, "POST:" + json);
}

TEST_F(HttpTest, EmptyPostAndDelete) {
  HttpClient client;
  HttpResponse res;
  HttpRequest post = request("POST", "/echo");
  ASSERT_TRUE(client.perform(post, res).ok());
  EXPECT_EQ(res.body, "POST:");

  HttpRequest del = request("DELETE", "/echo");
  ASSERT_TRUE(client.perform(del, res).ok());
  EXPECT_EQ(seen_.method, "DELETE");
  EXPECT_EQ(res.body, "DELETE:");
}

TEST_F(HttpTest, HeadReturnsHeadersWithoutBody) {
  HttpClient client;
  HttpResponse res;
  HttpRequest head = request("HEAD", "/big");
  ASSERT_TRUE(client.perform(head, res).ok());
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("x-only-big"), "yes");
  EXPECT_TRUE(res.body.empty());
  // A GET after a HEAD on the same handle is a real GET again.
  HttpRequest get = request("GET", "/echo");
  ASSERT_TRUE(client.perform(get, res).ok());
  EXPECT_EQ(res.body, "GET:");
}

TEST_F(HttpTest, SeveralRequestsReuseOneConnection) {
  HttpClient client;
  HttpResponse res;
  for (const char* method : {"GET", "PUT", "POST", "GET", "DELETE", "POST"}) {
    HttpRequest req = request(method, "/echo", "payload");
    if (std::string_view(method) == "GET" || std::string_view(method) == "DELETE") req.body = {};
    ASSERT_TRUE(client.perform(req, res).ok()) << method;
    ASSERT_EQ(res.status, 200);
  }
  std::lock_guard lock(seen_.mu);
  ASSERT_EQ(seen_.ports.size(), 6u);
  EXPECT_EQ(std::set<int>(seen_.ports.begin(), seen_.ports.end()).size(), 1u)
      << "one client port = one connection";
}

TEST_F(HttpTest, ResponseBufferIsReusedAndHeadersAreReset) {
  HttpClient client;
  HttpResponse res;
  HttpRequest big = request("GET", "/big");
  ASSERT_TRUE(client.perform(big, res).ok());
  ASSERT_EQ(res.body.size(), 200'000u);
  const char* storage = res.body.data();
  size_t capacity = res.body.capacity();

  HttpRequest small = request("GET", "/echo");
  ASSERT_TRUE(client.perform(small, res).ok());
  EXPECT_EQ(res.body, "GET:");
  EXPECT_EQ(res.body.capacity(), capacity);  // no reallocation for the next page
  EXPECT_EQ(res.body.data(), storage);
  EXPECT_TRUE(res.header("x-only-big").empty());  // the previous answer's headers are gone
}

TEST_F(HttpTest, DefaultUserAgentNamesTheToolAndVersion) {
  HttpClient client;
  HttpResponse res;
  HttpRequest req = request("GET", "/echo");
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(seen_.user_agent, std::string("ddb2s3/") + DDB2S3_VERSION);

  HttpOptions o;
  o.user_agent = "custom/1.0";
  HttpClient custom(o);
  ASSERT_TRUE(custom.perform(req, res).ok());
  EXPECT_EQ(seen_.user_agent, "custom/1.0");
}

TEST(HttpFailures, ClosedPortIsATransientConnectionRefusedNamingTheHostOnly) {
  std::string url;
  {
    TestHttpServer gone;
    gone.start();
    url = gone.url() + "/secret-path?X-Amz-Signature=abc";
  }                   // stopped: nothing listens on that port any more
  TestHttpServer up;  // declared before the client, so the client's connection closes first
  up.server().Get("/ok",
                  [](const httplib::Request&, httplib::Response& r) { r.set_content("ok", "text/plain"); });
  up.start();
  HttpClient client;
  HttpResponse res;
  HttpRequest req;
  req.url = url;
  req.set_header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/very-secret");
  Status st = client.perform(req, res);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kTransient);
  EXPECT_EQ(st.error().code, "ConnectionRefused");
  EXPECT_TRUE(st.error().retryable());
  EXPECT_NE(st.error().message.find("127.0.0.1"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message.find("very-secret"), std::string::npos);
  EXPECT_EQ(st.error().message.find("X-Amz-Signature"), std::string::npos);

  // The same client works again once something answers.
  req.url = up.url() + "/ok";
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(res.body, "ok");
}

TEST(HttpFailures, StalledServerTimesOutAndTheClientRecovers) {
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void release() {
      {
        std::lock_guard lock(mu);
        open = true;
      }
      cv.notify_all();
    }
  };
  TestHttpServer server;
  Gate gate;
  server.server().Get("/stall", [&gate](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(gate.mu);
    gate.cv.wait(lock, [&] { return gate.open; });
    res.set_content("late", "text/plain");
  });
  server.server().Get(
      "/ok", [](const httplib::Request&, httplib::Response& r) { r.set_content("ok", "text/plain"); });
  server.start();
  struct Releaser {
    Gate& g;
    ~Releaser() { g.release(); }  // also on a failed assertion, before the server stops
  } releaser{gate};

  HttpOptions o;
  o.read_timeout = std::chrono::milliseconds(300);
  HttpClient client(o);
  HttpResponse res;
  HttpRequest req;
  req.url = server.url() + "/stall";
  auto start = std::chrono::steady_clock::now();
  Status st = client.perform(req, res);
  auto took = std::chrono::steady_clock::now() - start;
  gate.release();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Timeout");
  EXPECT_EQ(st.error().kind, ErrorKind::kTransient);
  EXPECT_LT(took, std::chrono::seconds(10));

  req.url = server.url() + "/ok";
  ASSERT_TRUE(client.perform(req, res).ok());
  EXPECT_EQ(res.body, "ok");
}

TEST(HttpFailures, MalformedUrlIsAClientError) {
  HttpClient client;
  HttpResponse res;
  HttpRequest req;
  req.url = "nope://127.0.0.1:1/";
  Status st = client.perform(req, res);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kClient);
  EXPECT_FALSE(st.error().retryable());
}

// The last line of defence: nothing that curl would put on the wire verbatim as an extra header line,
// a forged request or a malformed URL ever leaves; the error names the header, not a secret's value.
TEST(HttpRequestCheck, HeadersAndUrlsThatWouldBreakTheRequestAreNeverSent) {
  TestHttpServer server;
  std::atomic<int> calls{0};
  std::string injected;
  server.serve_all([&](const httplib::Request& req, httplib::Response&) {
    ++calls;
    if (req.has_header("X-Injected")) injected = req.get_header_value("X-Injected");
  });
  server.start();
  HttpClient client;
  HttpResponse res;
  auto send = [&](Headers headers, std::string path = "/x") {
    HttpRequest req;
    req.url = server.url() + path;
    req.headers = std::move(headers);
    return client.perform(req, res);
  };

  Status value_crlf = send({{"X-Amz-Meta-A", "v\r\nX-Injected: 1"}});
  ASSERT_FALSE(value_crlf.ok());
  EXPECT_EQ(value_crlf.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(value_crlf.error().code, "InvalidRequestHeader");
  EXPECT_NE(value_crlf.error().message.find("X-Amz-Meta-A"), std::string::npos)
      << value_crlf.error().message;
  EXPECT_EQ(value_crlf.error().message.find('\n'), std::string::npos);

  Status bare_lf = send({{"X-A", "v\nX-Injected: 2"}});
  ASSERT_FALSE(bare_lf.ok());
  EXPECT_EQ(bare_lf.error().code, "InvalidRequestHeader");
  Status nul = send({{"X-A", std::string("a\0b", 3)}});
  ASSERT_FALSE(nul.ok());

  for (std::string name : {"X-A\r\nX-Injected", "X A", "X-A:", "", "X-\x80"}) {
    Status bad_name = send({{name, "v"}});
    ASSERT_FALSE(bad_name.ok()) << name;
    EXPECT_EQ(bad_name.error().code, "InvalidRequestHeader") << name;
    EXPECT_EQ(bad_name.error().message.find('\n'), std::string::npos);
  }

  // A secret's value is never printed, even in part.
  Status secret = send({{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET\r\nX-Injected: 3"}});
  ASSERT_FALSE(secret.ok());
  EXPECT_NE(secret.error().message.find("Authorization"), std::string::npos);
  EXPECT_EQ(secret.error().to_string().find("AKIDSECRET"), std::string::npos) << secret.error().to_string();
  Status token = send({{"X-Amz-Security-Token", "tok\nSECRET"}});
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().to_string().find("SECRET"), std::string::npos);

  for (std::string path : {"/x\r\nX-Injected: 4", "/x y", "/x\t", "/\xc3\xa9"}) {
    Status bad_url = send({}, path);
    ASSERT_FALSE(bad_url.ok()) << path;
    EXPECT_EQ(bad_url.error().code, "InvalidRequestUrl") << path;
    EXPECT_EQ(bad_url.error().kind, ErrorKind::kInternal);
  }
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(injected, "");

  // What may be sent still is: a tab and non-ASCII bytes in a value, token punctuation in a name.
  Status fine = send({{"X-A", "a\tb"}, {"X-B", "caf\xc3\xa9"}, {"X-C!#$%&'*+.^_`|~", ""}});
  ASSERT_TRUE(fine.ok()) << fine.error().to_string();
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpRequestCheck, TheCharacterClassesAreRfc9110s) {
  EXPECT_TRUE(is_header_name("x-amz-meta-a_b.c"));
  EXPECT_FALSE(is_header_name("a b"));
  EXPECT_FALSE(is_header_name("a(b)"));
  EXPECT_FALSE(is_header_name(""));
  EXPECT_TRUE(is_header_value(""));
  EXPECT_TRUE(is_header_value("a\tb c"));
  EXPECT_FALSE(is_header_value("a\x7f"));
  EXPECT_FALSE(is_header_value("a\rb"));
  EXPECT_TRUE(is_wire_url("https://h:1/p?q=%20"));
  EXPECT_FALSE(is_wire_url("https://h/p q"));
  EXPECT_TRUE(is_secret_header("x-amz-server-side-encryption-customer-key"));
  EXPECT_FALSE(is_secret_header("x-amz-server-side-encryption-customer-key-MD5"));
}

// A TLS server with a self-signed certificate for 127.0.0.1, made with the openssl command.
class TlsServer {
 public:
  TlsServer() {
    cert_ = dir_.file("cert.pem");
    std::string key = dir_.file("key.pem");
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert_ + " 2>/dev/null";
    ok_ = std::system(cmd.c_str()) == 0;
    if (!ok_) return;
    server_ = std::make_unique<httplib::SSLServer>(cert_.c_str(), key.c_str());
    server_->Get(
        "/ok", [](const httplib::Request&, httplib::Response& r) { r.set_content("secure", "text/plain"); });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::yield();
  }
  ~TlsServer() {
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }
  bool ok() const { return ok_; }
  const std::string& cert() const { return cert_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/ok"; }

 private:
  testing::TempDir dir_;
  std::string cert_;
  bool ok_ = false;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST(HttpTls, UntrustedCertificateIsAClientErrorPointingAtAwsCaBundle) {
  TlsServer server;
  ASSERT_TRUE(server.ok()) << "openssl could not make a test certificate";
  HttpRequest req;
  req.url = server.url();
  HttpResponse res;
  {
    HttpClient client;  // the system's CA store does not know our certificate
    Status st = client.perform(req, res);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().kind, ErrorKind::kClient);
    EXPECT_EQ(st.error().code, "TlsCertificateError");
    EXPECT_NE(st.error().hint.find("AWS_CA_BUNDLE"), std::string::npos);
  }
  HttpOptions o;
  o.ca_bundle = server.cert();
  HttpClient trusting(o);
  Status st = trusting.perform(req, res);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(res.body, "secure");
}

}  // namespace
}  // namespace ddb2s3
