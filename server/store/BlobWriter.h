// Streams a message into a new encrypted blob file (format: BlobFile.h).
#pragma once

#include "store/AtRestKey.h"
#include "store/BlobCipher.h"
#include "store/BlobError.h"
#include "store/BlobIo.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace plexus::store {

// Holds at most one segment of plaintext in memory. Nothing half-written
// survives: unless commit() succeeds, the destructor removes the file. After
// any failure the writer refuses further writes.
class BlobWriter {
public:
    // Creates path, which must not exist, with mode 0600.
    BlobWriter(const AtRestKey& key, std::string path);
    BlobWriter(BlobWriter&&) noexcept = default;
    BlobWriter& operator=(BlobWriter&&) noexcept = default;
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;
    ~BlobWriter() = default;

    void write(const char* data, std::size_t n);
    // Seals the last segment, fsyncs and closes the file. The caller then
    // makes its directory entry durable with syncDirectory().
    void commit();
    // Plaintext bytes written so far.
    std::uint64_t size() const { return size_; }

    // fsyncs a directory, so the entries of files just created in it survive a crash.
    static void syncDirectory(const std::string& dir);

private:
    // Path of the file being written; removes the file on destruction unless kept.
    class OwnedFile {
    public:
        explicit OwnedFile(std::string path) : path_(std::move(path)) {}
        OwnedFile(OwnedFile&& other) noexcept;
        OwnedFile& operator=(OwnedFile&& other) noexcept;
        OwnedFile(const OwnedFile&) = delete;
        OwnedFile& operator=(const OwnedFile&) = delete;
        ~OwnedFile() { remove(); }

        const std::string& path() const { return path_; }
        bool kept() const { return kept_; }
        void keep() { kept_ = true; }

    private:
        void remove() noexcept;

        std::string path_;  // empty once moved from
        bool kept_ = false;
    };

    void sealSegment(bool last);
    void requireWritable() const;
    BlobError failure(const std::string& what) const;  // adds the path and errno text

    // Declaration order matters: the file is owned (and so removed on
    // failure) only once this writer has created it.
    blob::BlobCipher cipher_;
    io::UniqueFd fd_;  // closed once committed or failed
    OwnedFile file_;
    std::vector<char> plaintext_;  // the segment being filled
    std::vector<char> sealed_;     // its ciphertext and tag
    std::uint64_t segment_ = 0;    // index of the segment being filled
    std::uint64_t size_ = 0;
};

}  // namespace plexus::store
