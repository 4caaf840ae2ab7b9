// Mailbox names on the wire are in modified UTF-7 (RFC 3501 §5.1.3); the
// store keeps them in UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plexus::imap {

std::string encodeMailboxName(std::string_view utf8);
// nullopt when not valid modified UTF-7 (bad base64, unclosed "&", non-minimal
// or direct-encodable characters encoded, invalid UTF-16) or not UTF-8 after decoding.
std::optional<std::string> decodeMailboxName(std::string_view modifiedUtf7);

}  // namespace plexus::imap
