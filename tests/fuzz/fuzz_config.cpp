// parse_shared_config (src/aws/config.h) on any pair of files: the input is the config file's text, then
// a line "#--credentials--" and the credentials file's text. Each profile found is then resolved as the
// tool would (region and the endpoints of dynamodb and s3, with an empty environment), so that values
// read from the files reach the resolvers.
//
// Properties: nothing crashes; a parse error is kUsage with a message; a profile the parser reports is one
// that has_profile() finds.
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ddb2s3;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto [config_text, credentials_text] = fuzz::split(input, "\n#--credentials--\n");
  auto config = parse_shared_config(config_text, credentials_text);
  if (!config) {
    if (config.error().kind != ErrorKind::kUsage || config.error().message.empty())
      fuzz::property_failed("a parse error that is not a kUsage error with a message", input);
    return 0;
  }
  const Environment env = Environment::from({});
  int resolved = 0;
  auto resolve = [&](const std::string& profile) {
    if (++resolved > 8) return;  // bounded work per input
    if (!config->has_profile(profile)) fuzz::property_failed("a parsed profile has_profile() misses", input);
    AwsOptions options;
    options.profile = profile;
    (void)config->get_bool(profile, "use_fips_endpoint");
    (void)config->get_nested(profile, "s3", "addressing_style");
    auto region = resolve_region(options, env, *config);
    const std::string r = region ? *region : std::string("us-east-1");
    for (const char* service : {"dynamodb", "s3"}) {
      auto endpoint = resolve_endpoint(service, r, options, env, *config);
      if (endpoint && std::string_view(service) == "s3") (void)s3_bucket_url(*endpoint, "bucket", false);
    }
  };
  for (const auto& [name, section] : config->config_profiles) resolve(name);
  for (const auto& [name, section] : config->credentials_profiles) resolve(name);
  return 0;
}
