// Byte layout of encrypted blob files (see BlobFile.h for the overview):
// the header codec and the arithmetic that places segments in the file.
#pragma once

#include "store/AtRestKey.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace plexus::store::blob {

inline constexpr std::array<unsigned char, 4> kMagic{'P', 'L', 'X', 'B'};
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kSaltSize = 32;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kHeaderSize = kMagic.size() + 1 + 4 + AtRestKey::kIdSize + kSaltSize;
inline constexpr std::uint32_t kSegmentSize = 64 * 1024;
// Readers refuse larger segments: a damaged header must not make them allocate gigabytes.
inline constexpr std::uint32_t kMaxSegmentSize = 1024 * 1024;

using HeaderBytes = std::array<unsigned char, kHeaderSize>;

struct Header {
    std::uint32_t segmentSize = kSegmentSize;  // plaintext bytes per segment, all but the last
    AtRestKey::Id keyId{};
    std::array<unsigned char, kSaltSize> salt{};  // random per file; derives the file key
};

HeaderBytes encodeHeader(const Header& header);
// Throws BlobError naming path if the bytes are not a version-1 blob header.
Header decodeHeader(std::span<const unsigned char, kHeaderSize> bytes, const std::string& path);

// Where the segments of a blob lie, derived from the file size alone.
class Layout {
public:
    // nullopt if no sequence of segments fills exactly fileSize bytes.
    static std::optional<Layout> forFileSize(std::uint64_t fileSize, std::uint32_t segmentSize);

    std::uint64_t plaintextSize() const { return plaintextSize_; }
    std::uint64_t segmentCount() const { return segmentCount_; }
    std::uint64_t segmentOf(std::uint64_t plaintextOffset) const { return plaintextOffset / segmentSize_; }
    std::uint64_t segmentStart(std::uint64_t segment) const { return segment * segmentSize_; }
    std::uint64_t segmentFileOffset(std::uint64_t segment) const { return kHeaderSize + segment * (segmentSize_ + kTagSize); }
    std::size_t segmentLength(std::uint64_t segment) const;  // plaintext bytes
    bool isLast(std::uint64_t segment) const { return segment + 1 == segmentCount_; }

private:
    Layout(std::uint64_t plaintextSize, std::uint32_t segmentSize);

    std::uint64_t plaintextSize_;
    std::uint32_t segmentSize_;
    std::uint64_t segmentCount_;
};

}  // namespace plexus::store::blob
