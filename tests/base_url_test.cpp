// split_url: scheme, host, port, path and query of the URLs the clients build and the endpoints users give.
#include <gtest/gtest.h>

#include "base/url.h"

namespace ddb2s3 {
namespace {

void expect_parts(std::string_view url, std::string_view scheme, std::string_view host, std::string_view port,
                  std::string_view path, std::string_view query) {
  const UrlParts p = split_url(url);
  EXPECT_EQ(p.scheme, scheme) << url;
  EXPECT_EQ(p.host, host) << url;
  EXPECT_EQ(p.port, port) << url;
  EXPECT_EQ(p.path, path) << url;
  EXPECT_EQ(p.query, query) << url;
}

TEST(BaseUrl, SplitsEveryPart) {
  expect_parts("https://s3.eu-west-1.amazonaws.com/bucket/a%20key?uploadId=x&partNumber=1", "https",
               "s3.eu-west-1.amazonaws.com", "", "/bucket/a%20key", "uploadId=x&partNumber=1");
  expect_parts("http://127.0.0.1:4569/b1", "http", "127.0.0.1", "4569", "/b1", "");
  expect_parts("https://dynamodb.us-east-1.amazonaws.com", "https", "dynamodb.us-east-1.amazonaws.com", "",
               "", "");
  expect_parts("https://example.com/", "https", "example.com", "", "/", "");
  expect_parts("https://example.com?list-type=2", "https", "example.com", "", "", "list-type=2");
  expect_parts("https://example.com:8443?", "https", "example.com", "8443", "", "");
}

TEST(BaseUrl, Ipv6LiteralsKeepTheirBrackets) {
  expect_parts("http://[fd00:ec2::254]/latest/api/token", "http", "[fd00:ec2::254]", "", "/latest/api/token",
               "");
  expect_parts("http://[::1]:8080/x", "http", "[::1]", "8080", "/x", "");
  expect_parts("http://[::1]", "http", "[::1]", "", "", "");
}

TEST(BaseUrl, UserinfoAndFragmentAreLeftOut) {
  expect_parts("https://user:secret@host.example:9000/p?q=1#frag", "https", "host.example", "9000", "/p",
               "q=1");
  expect_parts("https://host/p#a?b", "https", "host", "", "/p", "");
  expect_parts("https://a@b@host/", "https", "host", "", "/", "");
}

TEST(BaseUrl, WithoutSchemeTheAuthorityComesFirst) {
  expect_parts("localhost:8000/path", "", "localhost", "8000", "/path", "");
  expect_parts("", "", "", "", "", "");
  expect_parts("/only/a/path", "", "", "", "/only/a/path", "");
}

TEST(BaseUrl, PartsAreViewsAsWritten) {
  // Nothing is decoded or lower-cased: that is for the caller (the signer lower-cases the Host).
  expect_parts("HTTPS://Example.COM:443/A%2Fb?X=%41", "HTTPS", "Example.COM", "443", "/A%2Fb", "X=%41");
  const std::string url = "https://h:1/p?q";
  const UrlParts p = split_url(url);
  EXPECT_EQ(p.host.data(), url.data() + 8);
}

}  // namespace
}  // namespace ddb2s3
