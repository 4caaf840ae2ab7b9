// Random access to an encrypted blob file (format: BlobFile.h).
#pragma once

#include "store/AtRestKey.h"
#include "store/BlobCipher.h"
#include "store/BlobError.h"
#include "store/BlobFormat.h"
#include "store/BlobIo.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plexus::store {

// Decrypts only the segments a read covers, authenticating each: any
// tampering, truncation or extension throws BlobError. Opening authenticates
// the header and the last segment, so size() can be trusted before any read.
class BlobReader {
public:
    BlobReader(const AtRestKey& key, std::string path);

    // Plaintext size.
    std::uint64_t size() const { return layout_.plaintextSize(); }
    // Copies up to n plaintext bytes from offset into out; returns the number
    // copied, fewer than n only at the end of the blob.
    std::size_t read(std::uint64_t offset, char* out, std::size_t n);
    std::string readRange(std::uint64_t offset, std::uint64_t length);
    // The whole message in memory: for tests and small messages only.
    std::string readAll() { return readRange(0, size()); }

private:
    // Decrypts a segment into plaintext_, unless it is already there.
    void load(std::uint64_t segment);
    BlobError corrupt(const std::string& what) const;

    std::string path_;
    io::UniqueFd fd_;
    blob::Header header_;
    blob::Layout layout_;
    blob::BlobCipher cipher_;
    std::vector<char> sealed_;
    std::vector<char> plaintext_;  // cache of the last segment decrypted
    std::optional<std::uint64_t> cachedSegment_;
};

}  // namespace plexus::store
