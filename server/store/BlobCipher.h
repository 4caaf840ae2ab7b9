// AES-256-GCM sealing of the segments of one blob file.
#pragma once

#include "store/AtRestKey.h"
#include "store/BlobFormat.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace plexus::store::blob {

// Each file gets its own key, HKDF(at-rest key, file salt), so segment nonces
// can count from zero without ever repeating under one key, and no number of
// blobs wears out the at-rest key. The AAD of every segment is the file header,
// the segment index and a last-segment flag: a changed header, reordered,
// dropped, truncated or appended segments all fail authentication.
class BlobCipher {
public:
    BlobCipher(const AtRestKey& key, const Header& header, std::string path);

    // The encoded header this cipher authenticates with every segment.
    const HeaderBytes& header() const { return header_; }

    // Writes the ciphertext of plaintext then its tag to out
    // (plaintext.size() + kTagSize bytes).
    void seal(std::uint64_t segment, bool last, std::span<const char> plaintext, char* out);
    // Decrypts sealed (ciphertext then tag) into out (sealed.size() - kTagSize
    // bytes). False if the segment fails authentication: out is then garbage.
    bool open(std::uint64_t segment, bool last, std::span<const char> sealed, char* out);

private:
    enum class Direction { decrypt = 0, encrypt = 1 };
    // Sets the segment's nonce and feeds its AAD.
    void start(std::uint64_t segment, bool last, Direction direction);
    [[noreturn]] void fail(const char* operation) const;

    struct ContextFree {
        void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
    };
    std::unique_ptr<EVP_CIPHER_CTX, ContextFree> context_;
    HeaderBytes header_;
    std::string path_;
};

}  // namespace plexus::store::blob
