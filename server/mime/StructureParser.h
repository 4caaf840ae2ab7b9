// Builds a MessageStructure while the message streams in (SMTP DATA/BDAT), in
// one pass and bounded memory: only header blocks (up to a limit) and the
// first bytes of the current line are kept. Never throws on malformed input:
// missing boundaries, NULs, bare LFs, 8-bit headers, a missing blank line all
// give a best-effort structure.
#pragma once

#include "mime/MessageStructure.h"

#include <cstddef>
#include <memory>
#include <string_view>

namespace plexus::mime {

struct Limits {
    std::size_t maxHeaderBytes = 1 << 20;          // per header block; the rest is counted, not parsed
    std::size_t maxDepth = 50;                     // nesting levels (root = 1); deeper containers are leaves
    std::size_t maxParts = 10000;                  // once reached, the rest belongs to the part then open
    std::size_t maxIndexedHeaderBytes = 64 << 10;  // MessageStructure::headers, names + values
};

class StructureParser {
public:
    explicit StructureParser(Limits limits = {});
    ~StructureParser();
    StructureParser(StructureParser&&) noexcept;
    StructureParser& operator=(StructureParser&&) noexcept;

    // Any chunking: lines may be split anywhere.
    void feed(const char* data, std::size_t size);
    // Ends the message; the parser is then ready for the next one.
    MessageStructure finish();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// For tests and small inputs.
MessageStructure parseMessage(std::string_view whole, Limits limits = {});

}  // namespace plexus::mime
