// The in-process test server answers on loopback and stops cleanly.
#include <gtest/gtest.h>

#include "support/http_server.h"

namespace ddb2s3::testing {

TEST(TestHttpServer, AnswersOnLoopback) {
  TestHttpServer s;
  s.server().Get("/ping", [](const httplib::Request&, httplib::Response& res) { res.set_content("pong", "text/plain"); });
  s.start();
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Get("/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "pong");
}

}  // namespace ddb2s3::testing
