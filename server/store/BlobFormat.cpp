#include "store/BlobFormat.h"

#include "store/BlobError.h"

#include <algorithm>

namespace plexus::store::blob {

namespace {

constexpr std::size_t kVersionOffset = kMagic.size();
constexpr std::size_t kSegmentSizeOffset = kVersionOffset + 1;
constexpr std::size_t kKeyIdOffset = kSegmentSizeOffset + 4;
constexpr std::size_t kSaltOffset = kKeyIdOffset + AtRestKey::kIdSize;
static_assert(kSaltOffset + kSaltSize == kHeaderSize);

void putBigEndian32(std::uint32_t value, unsigned char* out)
{
    for (int i = 3; i >= 0; --i, value >>= 8)
        out[i] = static_cast<unsigned char>(value);
}

std::uint32_t getBigEndian32(const unsigned char* in)
{
    return std::uint32_t{in[0]} << 24 | std::uint32_t{in[1]} << 16 | std::uint32_t{in[2]} << 8 | in[3];
}

}  // namespace

HeaderBytes encodeHeader(const Header& header)
{
    HeaderBytes bytes{};
    std::copy(kMagic.begin(), kMagic.end(), bytes.begin());
    bytes[kVersionOffset] = kVersion;
    putBigEndian32(header.segmentSize, &bytes[kSegmentSizeOffset]);
    std::copy(header.keyId.begin(), header.keyId.end(), &bytes[kKeyIdOffset]);
    std::copy(header.salt.begin(), header.salt.end(), &bytes[kSaltOffset]);
    return bytes;
}

Header decodeHeader(std::span<const unsigned char, kHeaderSize> bytes, const std::string& path)
{
    if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin()))
        throw BlobError("blob " + path + " is not a Plexus blob file (bad magic)");
    if (bytes[kVersionOffset] != kVersion)
        throw BlobError("blob " + path + " has unsupported format version " + std::to_string(bytes[kVersionOffset]));
    Header header;
    header.segmentSize = getBigEndian32(&bytes[kSegmentSizeOffset]);
    if (header.segmentSize == 0 || header.segmentSize > kMaxSegmentSize)
        throw BlobError("blob " + path + " is corrupt: invalid segment size " + std::to_string(header.segmentSize));
    std::copy_n(&bytes[kKeyIdOffset], header.keyId.size(), header.keyId.begin());
    std::copy_n(&bytes[kSaltOffset], header.salt.size(), header.salt.begin());
    return header;
}

Layout::Layout(std::uint64_t plaintextSize, std::uint32_t segmentSize)
    : plaintextSize_(plaintextSize),
      segmentSize_(segmentSize),
      // An empty blob still has one (empty, last) segment.
      segmentCount_(std::max<std::uint64_t>(1, (plaintextSize + segmentSize - 1) / segmentSize))
{
}

std::optional<Layout> Layout::forFileSize(std::uint64_t fileSize, std::uint32_t segmentSize)
{
    if (fileSize < kHeaderSize + kTagSize)
        return std::nullopt;
    const std::uint64_t body = fileSize - kHeaderSize;
    const std::uint64_t stride = std::uint64_t{segmentSize} + kTagSize;
    const std::uint64_t count = (body + stride - 1) / stride;
    const std::uint64_t lastSealed = body - (count - 1) * stride;
    if (lastSealed < kTagSize)
        return std::nullopt;
    const Layout layout((count - 1) * segmentSize + (lastSealed - kTagSize), segmentSize);
    // Writers only emit an empty last segment for an empty blob: any other
    // split of the same bytes is not one a writer produces.
    if (layout.segmentCount() != count)
        return std::nullopt;
    return layout;
}

std::size_t Layout::segmentLength(std::uint64_t segment) const
{
    return isLast(segment) ? static_cast<std::size_t>(plaintextSize_ - segmentStart(segment)) : segmentSize_;
}

}  // namespace plexus::store::blob
