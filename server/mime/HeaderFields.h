// Internal to mime/: the grammar of one header block (RFC 5322, RFC 2045,
// RFC 2183) is libetpan's; this maps its results onto our types.
#pragma once

#include "mime/MessageStructure.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

namespace plexus::mime::detail {

bool equalsIgnoreCase(std::string_view a, std::string_view b);
bool startsWithIgnoreCase(std::string_view text, std::string_view prefix);

// The value of the first entry with that name (case-insensitive): HeaderField, Parameter.
template <class Named>
std::optional<std::string_view> firstNamed(const std::vector<Named>& entries, std::string_view name)
{
    const auto entry = std::find_if(entries.begin(), entries.end(),
                                    [&](const Named& e) { return equalsIgnoreCase(e.name, name); });
    if (entry == entries.end()) return std::nullopt;
    return entry->value;
}

// Every field of the block in order, values unfolded and trimmed; lines that
// are not fields (no colon, 8-bit names, stray continuations) are skipped.
std::vector<HeaderField> parseHeaderFields(std::string_view block);

Envelope parseEnvelope(const std::vector<HeaderField>& fields);

// Content-* fields onto `part`, over the RFC 2045 defaults (§5.2, §6.1; RFC 2046
// §5.1.5 for the parts of a multipart/digest).
void parseContentFields(const std::vector<HeaderField>& fields, bool inDigest, BodyPart& part);

}  // namespace plexus::mime::detail
