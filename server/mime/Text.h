// UTF-8 handling and RFC 2047 header decoding shared by the full-text
// extractor and IMAP SEARCH/SORT.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plexus::mime {

// The code point starting at `index` (strict RFC 3629: no overlongs, no
// surrogates); `index` moves past it, or past one byte when it is invalid.
std::optional<char32_t> nextCodePoint(std::string_view text, std::size_t& index);
bool isValidUtf8(std::string_view text);
// The valid UTF-8 sequences of `text`, invalid bytes dropped.
std::string keepValidUtf8(std::string_view text);
void appendUtf8(std::string& out, char32_t code);

// RFC 2047 encoded-words (B and Q, any charset iconv knows) decoded to UTF-8;
// malformed words are kept as written, and 8-bit text that is not UTF-8 is
// read as Windows-1252.
std::string decodeHeaderValue(std::string_view raw);

}  // namespace plexus::mime
