// The master key that encrypts message blobs at rest. It lives in a key file
// outside the database, so a copy of the database alone reveals no message.
//
// Key file format: 64 lowercase hexadecimal characters (the 32-byte AES-256
// key) followed by one newline; mode 0600, no access for group or others.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::store {

class AtRestKeyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class AtRestKey {
public:
    static constexpr std::size_t kSize = 32;
    static constexpr std::size_t kIdSize = 8;
    using Id = std::array<unsigned char, kIdSize>;

    // Creates a new key file with fresh random bytes; never overwrites.
    static void generateFile(const std::string& path);
    // Throws AtRestKeyError if the file is missing, malformed, or accessible
    // by group or others.
    static AtRestKey loadFile(const std::string& path);

    // Moving hands over the one heap copy of the secret; copies would spread it.
    AtRestKey(AtRestKey&&) noexcept;
    AtRestKey& operator=(AtRestKey&&) noexcept;
    AtRestKey(const AtRestKey&) = delete;
    AtRestKey& operator=(const AtRestKey&) = delete;
    ~AtRestKey();

    // Public fingerprint stored in blob headers to tell which key a blob needs.
    const Id& id() const { return id_; }
    static std::string idHex(const Id& id);

    // HKDF-SHA256 of this key with salt and info, so callers get working keys
    // without ever seeing the master key.
    void deriveKey(std::span<const unsigned char> salt, std::string_view info,
                   std::span<unsigned char, kSize> out) const;

private:
    struct Material;  // the key bytes, wiped on destruction
    explicit AtRestKey(std::unique_ptr<Material> material);

    std::unique_ptr<Material> material_;
    Id id_;
};

}  // namespace plexus::store
