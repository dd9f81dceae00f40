// DualMd5 (the S3 sink's object + part MD5 in one pass) against OpenSSL's MD5.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>

#include "base/digest.h"

namespace ddb2s3 {
namespace {

std::string openssl_md5_base64(std::string_view data) {
  unsigned char md[16];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  unsigned char b64[25];
  int n = EVP_EncodeBlock(b64, md, 16);
  return std::string(reinterpret_cast<const char*>(b64), static_cast<size_t>(n));
}

TEST(DualMd5, KnownDigests) {
  DualMd5 empty;
  EXPECT_EQ(empty.base64_digest(0), "1B2M2Y8AsgTpgAmY7PhCfg==");  // MD5("")
  DualMd5 m;
  m.update("The quick brown fox jumps over the lazy dog");
  EXPECT_EQ(m.base64_digest(0), "nhB9nTcrtoJr2B01QqQZ1g==");
  EXPECT_EQ(m.base64_digest(1), "nhB9nTcrtoJr2B01QqQZ1g==");
}

// Parts on and off 64-byte block boundaries, written in pieces of every size.
TEST(DualMd5, ObjectAndPartsMatchOpenSsl) {
  std::mt19937 rng(7);
  std::string data(1 << 20, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const std::string_view all(data);
  for (size_t part :
       {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4096}, size_t{100000}, size_t{1} << 20}) {
    for (size_t piece : {size_t{1}, size_t{7}, size_t{64}, size_t{1000}, size_t{70000}}) {
      if (piece == 1 && part > 4096) continue;  // slow and adds nothing
      DualMd5 m;
      size_t pos = 0, part_start = 0;
      const size_t total = std::min<size_t>(data.size(), part * 3 + 17);
      while (pos < total) {
        size_t n = std::min({piece, total - pos, part - (pos - part_start)});
        m.update(all.substr(pos, n));
        pos += n;
        if (pos - part_start == part) {
          ASSERT_EQ(m.base64_digest(1), openssl_md5_base64(all.substr(part_start, part)))
              << "part " << part << " piece " << piece << " at " << part_start;
          m.reset_second();
          part_start = pos;
        }
      }
      EXPECT_EQ(m.base64_digest(0), openssl_md5_base64(all.substr(0, total))) << part << "/" << piece;
      EXPECT_EQ(m.base64_digest(1), openssl_md5_base64(all.substr(part_start, total - part_start)));
    }
  }
}

}  // namespace
}  // namespace ddb2s3
