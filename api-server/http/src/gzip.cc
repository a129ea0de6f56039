#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "financialapi/http/server.h"

namespace financialapi::http {
namespace {

// windowBits 15 + 16: zlib writes and reads the gzip wrapper (RFC 1952) instead of zlib's own.
constexpr int kGzipWindowBits = 15 + 16;
// zlib counts in uInt; larger inputs are fed in slices of this size.
constexpr std::size_t kMaxSlice = std::numeric_limits<uInt>::max();

// Gives zlib the next slice of `data` once it has used up the last one.
void FeedInput(z_stream& stream, std::string_view data, std::size_t& in_offset) {
  if (stream.avail_in != 0) return;
  const std::size_t slice = std::min(kMaxSlice, data.size() - in_offset);
  // zlib's next_in is non-const for historical reasons; it does not write through it.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_offset));
  stream.avail_in = static_cast<uInt>(slice);
  in_offset += slice;
}

// Points zlib at the free end of `out` (doubling it when full); returns the room given.
std::size_t OfferOutput(z_stream& stream, std::string& out, std::size_t out_offset) {
  if (out_offset == out.size()) out.resize(out.size() * 2);
  const std::size_t room = std::min(kMaxSlice, out.size() - out_offset);
  stream.next_out = reinterpret_cast<Bytef*>(out.data() + out_offset);
  stream.avail_out = static_cast<uInt>(room);
  return room;
}

}  // namespace

StatusOr<std::string> GzipCompress(std::string_view data, int level) {
  if (level < Z_DEFAULT_COMPRESSION || level > Z_BEST_COMPRESSION) {
    return InvalidArgument("gzip level " + std::to_string(level) + " is outside -1..9");
  }
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("gzip: deflateInit2 failed");
  }
  std::string out;
  // deflateBound is exact enough that one output buffer suffices for the whole stream.
  out.resize(static_cast<std::size_t>(deflateBound(&stream, static_cast<uLong>(data.size()))) + 64);
  std::size_t in_offset = 0;
  std::size_t out_offset = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    FeedInput(stream, data, in_offset);
    const std::size_t room = OfferOutput(stream, out, out_offset);
    rc = deflate(&stream, in_offset == data.size() ? Z_FINISH : Z_NO_FLUSH);
    out_offset += room - stream.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      deflateEnd(&stream);
      return Internal("gzip: deflate failed (" + std::to_string(rc) + ")");
    }
  }
  deflateEnd(&stream);
  out.resize(out_offset);
  return out;
}

StatusOr<std::string> GzipDecompress(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, kGzipWindowBits) != Z_OK) return Internal("gzip: inflateInit2 failed");
  std::string out;
  out.resize(std::max<std::size_t>(data.size() * 4, 256));
  std::size_t in_offset = 0;
  std::size_t out_offset = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (stream.avail_in == 0 && in_offset == data.size()) {
      inflateEnd(&stream);
      return InvalidArgument("gzip: data ends before the end of the gzip stream");
    }
    FeedInput(stream, data, in_offset);
    const std::size_t room = OfferOutput(stream, out, out_offset);
    rc = inflate(&stream, Z_NO_FLUSH);
    out_offset += room - stream.avail_out;
    if (rc == Z_MEM_ERROR) {
      inflateEnd(&stream);
      return Internal("gzip: out of memory");
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
      inflateEnd(&stream);
      return InvalidArgument("gzip: corrupt data");
    }
  }
  const bool trailing = stream.avail_in > 0 || in_offset < data.size();
  inflateEnd(&stream);
  if (trailing) return InvalidArgument("gzip: trailing bytes after the gzip stream");
  out.resize(out_offset);
  return out;
}

}  // namespace financialapi::http
