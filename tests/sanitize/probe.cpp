// A program with one deliberate bug per mode, built only in a DDB2S3_SANITIZE build: the tests around
// it (expect_finding.cmake) check that each finding ends the process with exit code 99 and a
// symbolized stack trace, even started with an empty environment as tests start ddb2s3.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace {

// Opaque to the optimizer, so that the bugs below are not folded away at -O2.
volatile int g_one = 1;

int heap_overflow() {
  auto buffer = std::make_unique<char[]>(8);
  char* volatile p = buffer.get();
  return p[8 * g_one];  // one past the end
}

int use_after_free() {
  char* volatile p = static_cast<char*>(std::malloc(16));
  std::free(p);
  return p[g_one];
}

int index_past_size() {  // within capacity: only libstdc++'s assertions (_GLIBCXX_ASSERTIONS) see it
  std::vector<char> v(8);
  v.reserve(64);
  return v[8 * g_one];
}

int signed_overflow() {
  volatile int big = INT_MAX;
  const int sum = big + g_one;
  return sum & 1;
}

int leak() {
  char* volatile p = static_cast<char*>(std::malloc(32));
  p[0] = 1;
  std::printf("%p\n", static_cast<void*>(p));
  p = nullptr;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "heap-overflow") == 0) return heap_overflow();
  if (std::strcmp(mode, "use-after-free") == 0) return use_after_free();
  if (std::strcmp(mode, "index-past-size") == 0) return index_past_size();
  if (std::strcmp(mode, "signed-overflow") == 0) return signed_overflow();
  if (std::strcmp(mode, "leak") == 0) return leak();
  std::fprintf(stderr,
               "usage: sanitizer_probe heap-overflow|use-after-free|index-past-size|signed-overflow|"
               "leak\n");
  return 2;
}
