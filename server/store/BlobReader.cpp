#include "store/BlobReader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace plexus::store {

namespace {

io::UniqueFd openForReading(const std::string& path)
{
    io::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        throw BlobError("blob " + path + ": cannot open: " + io::errnoText(errno));
    return fd;
}

blob::Header readHeader(int fd, const AtRestKey& key, const std::string& path)
{
    blob::HeaderBytes bytes;
    const ssize_t got = io::readAt(fd, bytes.data(), bytes.size(), 0);
    if (got < 0)
        throw BlobError("blob " + path + ": cannot read header: " + io::errnoText(errno));
    if (static_cast<std::size_t>(got) < bytes.size())
        throw BlobError("blob " + path + " is corrupt: shorter than its header");
    blob::Header header = blob::decodeHeader(bytes, path);
    if (header.keyId != key.id())
        throw BlobError("blob " + path + " was encrypted with at-rest key id " + AtRestKey::idHex(header.keyId) +
                        " but the loaded at-rest key has id " + AtRestKey::idHex(key.id()) +
                        " (key id mismatch)");
    return header;
}

blob::Layout layoutOf(int fd, std::uint32_t segmentSize, const std::string& path)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw BlobError("blob " + path + ": cannot stat: " + io::errnoText(errno));
    const auto layout = blob::Layout::forFileSize(static_cast<std::uint64_t>(st.st_size), segmentSize);
    if (!layout)
        throw BlobError("blob " + path + " is corrupt: its size (" + std::to_string(st.st_size) +
                        " bytes) is not a whole number of segments");
    return *layout;
}

}  // namespace

BlobReader::BlobReader(const AtRestKey& key, std::string path)
    : path_(std::move(path)),
      fd_(openForReading(path_)),
      header_(readHeader(fd_.get(), key, path_)),
      layout_(layoutOf(fd_.get(), header_.segmentSize, path_)),
      cipher_(key, header_, path_)
{
    // The last segment is sealed with the header and a last flag: checking it
    // now proves the header and the size are authentic. (The buffers take the
    // size of what is read: most messages are one segment far below 64 KiB.)
    load(layout_.segmentCount() - 1);
}

std::size_t BlobReader::read(std::uint64_t offset, char* out, std::size_t n)
{
    if (offset >= size())
        return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size() - offset));
    std::size_t copied = 0;
    while (copied < n) {
        const std::uint64_t position = offset + copied;
        const std::uint64_t segment = layout_.segmentOf(position);
        load(segment);
        const auto within = static_cast<std::size_t>(position - layout_.segmentStart(segment));
        const std::size_t take = std::min(n - copied, plaintext_.size() - within);
        std::memcpy(out + copied, plaintext_.data() + within, take);
        copied += take;
    }
    return copied;
}

std::string BlobReader::readRange(std::uint64_t offset, std::uint64_t length)
{
    if (offset >= size())
        return {};
    std::string result(static_cast<std::size_t>(std::min(length, size() - offset)), '\0');
    read(offset, result.data(), result.size());
    return result;
}

void BlobReader::load(std::uint64_t segment)
{
    if (cachedSegment_ == segment)
        return;
    cachedSegment_.reset();
    const std::size_t length = layout_.segmentLength(segment);
    sealed_.resize(length + blob::kTagSize);
    const ssize_t got = io::readAt(fd_.get(), sealed_.data(), sealed_.size(), layout_.segmentFileOffset(segment));
    if (got < 0)
        throw BlobError("blob " + path_ + ": cannot read segment " + std::to_string(segment) + ": " +
                        io::errnoText(errno));
    if (static_cast<std::size_t>(got) != sealed_.size())
        throw corrupt("segment " + std::to_string(segment) + " is truncated");
    plaintext_.resize(length);
    if (!cipher_.open(segment, layout_.isLast(segment), sealed_, plaintext_.data()))
        throw corrupt("segment " + std::to_string(segment) + " of " + std::to_string(layout_.segmentCount()) +
                      " failed authentication (tampered, reordered, truncated or extended)");
    cachedSegment_ = segment;
}

BlobError BlobReader::corrupt(const std::string& what) const
{
    return BlobError("blob " + path_ + " is corrupt: " + what);
}

}  // namespace plexus::store
