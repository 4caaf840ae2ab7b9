#include "store/BlobWriter.h"

#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace plexus::store {

namespace {

blob::Header newHeader(const AtRestKey& key, const std::string& path)
{
    blob::Header header;
    header.keyId = key.id();
    if (RAND_bytes(header.salt.data(), static_cast<int>(header.salt.size())) != 1)
        throw BlobError("blob " + path + ": cannot get random bytes for the file salt");
    return header;
}

io::UniqueFd createExclusive(const std::string& path)
{
    io::UniqueFd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, S_IRUSR | S_IWUSR));
    if (!fd.valid())
        throw BlobError("blob " + path + ": cannot create: " + io::errnoText(errno));
    return fd;
}

}  // namespace

BlobWriter::OwnedFile::OwnedFile(OwnedFile&& other) noexcept
    : path_(std::exchange(other.path_, {})), kept_(other.kept_)
{
}

BlobWriter::OwnedFile& BlobWriter::OwnedFile::operator=(OwnedFile&& other) noexcept
{
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
        kept_ = other.kept_;
    }
    return *this;
}

void BlobWriter::OwnedFile::remove() noexcept
{
    if (!kept_ && !path_.empty())
        ::unlink(path_.c_str());
}

BlobWriter::BlobWriter(const AtRestKey& key, std::string path)
    : cipher_(key, newHeader(key, path), path), fd_(createExclusive(path)), file_(std::move(path))
{
    plaintext_.reserve(blob::kSegmentSize);
    sealed_.resize(blob::kSegmentSize + blob::kTagSize);
    if (!io::writeAll(fd_.get(), cipher_.header().data(), cipher_.header().size()))
        throw failure("cannot write header");
}

void BlobWriter::write(const char* data, std::size_t n)
{
    requireWritable();
    try {
        while (n > 0) {
            // A full segment is sealed only once more data arrives: until then
            // it may still turn out to be the last one.
            if (plaintext_.size() == blob::kSegmentSize)
                sealSegment(false);
            const std::size_t take = std::min(n, blob::kSegmentSize - plaintext_.size());
            plaintext_.insert(plaintext_.end(), data, data + take);
            data += take;
            n -= take;
            size_ += take;
        }
    } catch (...) {
        fd_.reset();
        throw;
    }
}

void BlobWriter::commit()
{
    requireWritable();
    try {
        sealSegment(true);
        if (!io::fsyncFd(fd_.get()))
            throw failure("cannot fsync");
        if (!fd_.close())
            throw failure("cannot close");
        file_.keep();
    } catch (...) {
        fd_.reset();
        throw;
    }
}

void BlobWriter::syncDirectory(const std::string& dir)
{
    if (!io::fsyncDirectory(dir))
        throw BlobError("cannot fsync blob directory " + dir + ": " + io::errnoText(errno));
}

void BlobWriter::sealSegment(bool last)
{
    cipher_.seal(segment_, last, plaintext_, sealed_.data());
    if (!io::writeAll(fd_.get(), sealed_.data(), plaintext_.size() + blob::kTagSize))
        throw failure("cannot write segment " + std::to_string(segment_));
    ++segment_;
    plaintext_.clear();
}

void BlobWriter::requireWritable() const
{
    if (file_.kept())
        throw BlobError("blob " + file_.path() + " is already committed");
    if (!fd_.valid())
        throw BlobError("blob " + file_.path() + " cannot be written: an earlier operation failed or it was moved from");
}

BlobError BlobWriter::failure(const std::string& what) const
{
    return BlobError("blob " + file_.path() + ": " + what + ": " + io::errnoText(errno));
}

}  // namespace plexus::store
