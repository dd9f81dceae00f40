// Digests against their standards' vectors: MD5 (RFC 1321), SHA-1 and SHA-256 (FIPS 180), HMAC-SHA256
// (RFC 4231); Md5's incremental use; the reusable Sha256 context. DualMd5 has base_digest_md5_test.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/encoding.h"
#include "support/files.h"

namespace ddb2s3 {
namespace {

TEST(BaseDigest, KnownAnswers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  const std::string mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string mac_hex;
  for (unsigned char c : mac) mac_hex += {kHex[c >> 4], kHex[c & 15]};
  EXPECT_EQ(mac_hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(md5_base64("The quick brown fox jumps over the lazy dog"), "nhB9nTcrtoJr2B01QqQZ1g==");
}

TEST(BaseDigest, Sha1Vectors) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(BaseDigest, HmacSha256LongKeyIsHashedFirst) {
  // RFC 4231 test case 6: a 131-byte key, longer than SHA-256's 64-byte block.
  EXPECT_EQ(hex_encode(hmac_sha256(std::string(131, '\xaa'),
                                   "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 1: a 20-byte key.
  EXPECT_EQ(hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(BaseDigest, OneSha256ContextServesManyDigests) {
  Sha256 sha;
  const Sha256::Digest abc = sha.digest("abc");
  EXPECT_EQ(hex_encode(abc.data(), abc.size()), sha256_hex("abc"));
  const Sha256::Digest split = sha.digest("a", "bc");  // a then b, as one message
  EXPECT_EQ(split, abc);
  const Sha256::Digest mac = sha.hmac("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mac.data()), mac.size()),
            hmac_sha256("Jefe", "what do ya want for nothing?"));
  EXPECT_EQ(sha.digest("abc"), abc);  // the HMAC left nothing behind
}

TEST(Md5, Rfc1321Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  auto md5 = Md5::make();
  ASSERT_TRUE(md5.ok());
  for (const auto& [input, hex] : vectors) {
    md5->reset();
    md5->update(input);
    EXPECT_EQ(md5->hex_digest(), hex) << input;
  }
  md5->reset();
  md5->update("abc");
  EXPECT_EQ(md5->base64_digest(), "kAFQmDzST7DWlj99KOF/cg==");
  md5->reset();
  EXPECT_EQ(md5->base64_digest(), "1B2M2Y8AsgTpgAmY7PhCfg==");  // empty input
}

TEST(Md5, IncrementalEqualsOneShotAndDigestDoesNotReset) {
  const std::string data = testing::random_bytes(300 << 10, 11);
  auto whole = Md5::make();
  auto pieces = Md5::make();
  ASSERT_TRUE(whole.ok() && pieces.ok());
  whole->update(data);
  const size_t half = data.size() / 2;
  pieces->update(std::string_view(data).substr(0, half));
  const std::string first_half = pieces->hex_digest();
  EXPECT_EQ(pieces->hex_digest(), first_half);  // reading twice gives the same digest
  pieces->update(std::string_view(data).substr(half));
  EXPECT_EQ(pieces->hex_digest(), whole->hex_digest());
  EXPECT_EQ(pieces->base64_digest(), whole->base64_digest());
  Md5 moved = std::move(*pieces);
  EXPECT_EQ(moved.hex_digest(), whole->hex_digest());
}

}  // namespace
}  // namespace ddb2s3
