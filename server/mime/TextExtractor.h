// The searchable text of a stored message, for the full-text index: the
// header fields decoded (RFC 2047) and the text/* parts' bodies decoded
// (quoted-printable, base64) and converted to UTF-8 from their charset;
// text/html reduced to its text. Attachments that are not text are skipped.
#pragma once

#include "mime/MessageStructure.h"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace plexus::mime {

struct ExtractedText {
    std::string header;  // "Name: decoded value\n" per field
    std::string body;    // texts of the parts, separated by "\n"
};

// `read(offset, length)` returns those bytes of the message. At most
// `maxBytes` of text are kept per field (header, body).
ExtractedText extractText(const MessageStructure& structure,
                          const std::function<std::string(std::uint64_t, std::uint64_t)>& read,
                          std::size_t maxBytes = 4 << 20);

}  // namespace plexus::mime
