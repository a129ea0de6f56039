// The watch-stream framing (kube::WatchStreamDecoder): the same body gives the same events and the
// same end whether it arrives at once or in chunks of any size, and no exception escapes.
//
// Input: the first byte picks the chunk sizes (1..16 bytes, cycling), the rest is the watch body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "checks/check.h"
#include "financialapi/kube/watch_stream.h"

namespace {

using financialapi::fuzz::Check;
using financialapi::kube::WatchEvent;
using financialapi::kube::WatchStreamDecoder;

struct Outcome {
  std::vector<std::string> events;  // "<type> <object>"
  std::string end;                  // the first error, or "" when the body was taken whole
};

Outcome Decode(std::string_view body, std::uint8_t pattern) {
  Outcome outcome;
  WatchStreamDecoder decoder("WATCH /fuzz", [&](WatchEvent&& event) {
    outcome.events.push_back(std::to_string(static_cast<int>(event.type)) + " " + event.object.dump());
  });
  std::size_t step = 0;
  while (!body.empty()) {
    const std::size_t shifted = static_cast<std::size_t>(pattern >> (step % 4));
    const std::size_t size = pattern == 0 ? body.size() : 1 + (shifted + step) % 16;
    ++step;
    const auto status = decoder.Feed(body.substr(0, size));
    body.remove_prefix(std::min(size, body.size()));
    if (!status.ok()) {
      outcome.end = status.ToString();
      Check(decoder.Feed("{\"type\":\"ADDED\",\"object\":{}}\n").ToString() == outcome.end,
            "a failed decoder refuses further chunks with its error");
      break;
    }
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  financialapi::fuzz::NoException("WatchStreamDecoder", [&] {
    const Outcome whole = Decode(body, 0);
    const Outcome chunked = Decode(body, data[0] == 0 ? 1 : data[0]);
    Check(whole.events == chunked.events, "chunking does not change the events");
    Check(whole.end == chunked.end, "chunking does not change the end: " + whole.end + " vs " + chunked.end);
  });
  return 0;
}
