// The CLI's JSON arguments: the reader of src/base/json_args.h and what is built on it. The first byte
// picks the entry point, the rest is the argument's text:
//   0 parse_json_arg          1 cli::marshal_plain_values (--values)   2 cli::attribute_names (--names)
//   3 cli::apply_scan_kwargs  4 object_options_from_extra_args (s3)    5 apply_export_kwargs (pitr)
//   6 json_integer / json_number on each value of an array
//
// Properties:
// - parse_json_arg agrees with simdjson's DOM parser: what it accepts, simdjson accepts (numbers out of
//   simdjson's range, which the reader keeps as digits, judged as 0: fuzz_support.h); each value's text is
//   the slice of the argument at its offset, and no value is deeper than the reader's limit;
// - what marshal_plain_values returns is a JSON object;
// - every failure is an Error with a message, never an exception (libFuzzer reports an uncaught one).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "base/json_args.h"
#include "cli/args.h"
#include "fuzz_support.h"
#include "pitr/pitr.h"
#include "s3/s3.h"

namespace {

using namespace ddb2s3;

void check_texts(const JsonValue& v, std::string_view arg, int depth = 0) {
  if (v.offset > arg.size() || arg.substr(v.offset, v.text.size()) != v.text ||
      v.text.data() != arg.data() + v.offset)
    fuzz::property_failed("a value's text is not the argument at its offset", arg);
  if (depth > 300) fuzz::property_failed("a value deeper than 256 levels", arg);
  for (const auto& e : v.elements) check_texts(e, arg, depth + 1);
  for (const auto& [name, m] : v.members) check_texts(m, arg, depth + 1);
  (void)v.describe();
}

void check_error(const Error& e, std::string_view arg) {
  if (e.message.empty()) fuzz::property_failed("an error without a message", arg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view arg(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 7) {
    case 0: {
      auto v = parse_json_arg(arg, "--arg");
      const simdjson::error_code reference = fuzz::json_error(arg);
      if (v) {
        check_texts(*v, arg);
        if (reference != simdjson::SUCCESS)
          fuzz::property_failed("parse_json_arg accepts what simdjson rejects", arg);
      } else {
        // Rejecting what simdjson accepts is allowed: the reader's own limits (256 levels, unique names).
        check_error(v.error(), arg);
      }
      break;
    }
    case 1: {
      auto typed = cli::marshal_plain_values(arg);
      if (!typed) {
        check_error(typed.error(), arg);
        break;
      }
      if (!fuzz::is_json_object(*typed))
        fuzz::property_failed("marshal_plain_values returned text that is not a JSON object", arg);
      if (!parse_json_arg(*typed, "typed"))
        fuzz::property_failed("marshal_plain_values returned text the reader rejects", arg);
      break;
    }
    case 2: {
      auto names = cli::attribute_names(arg);
      if (!names) check_error(names.error(), arg);
      break;
    }
    case 3: {
      ScanOptions options;
      options.table = "orders";
      cli::GivenFlags flags;
      flags.add("FilterExpression", "--filter");
      if (Status s = cli::apply_scan_kwargs(arg, flags, options); !s) check_error(s.error(), arg);
      break;
    }
    case 4: {
      auto o = object_options_from_extra_args(arg);
      if (!o) check_error(o.error(), arg);
      break;
    }
    case 5: {
      ExportOptions options;
      options.table = "orders";
      options.s3_bucket = "bucket";
      if (Status s = apply_export_kwargs(arg, options); !s) check_error(s.error(), arg);
      break;
    }
    case 6: {
      auto v = parse_json_arg(arg, "--arg");
      if (!v || !v->is(JsonValue::Kind::kArray)) break;
      for (const auto& e : v->elements) {
        auto i = json_integer(e, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), "n");
        if (!i) check_error(i.error(), arg);
        auto small = json_integer(e, -5, 1000, "n");
        if (small && (*small < -5 || *small > 1000)) fuzz::property_failed("json_integer out of its range", arg);
        auto d = json_number(e, "x");
        if (!d) check_error(d.error(), arg);
        if (e.is(JsonValue::Kind::kNumber)) (void)parse_integer(e.text, 0, 25, "Limit");
      }
      break;
    }
  }
  return 0;
}
