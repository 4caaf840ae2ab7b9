#pragma once

#include <stdexcept>

namespace plexus::store {

// Any failure to write or read an encrypted blob file: I/O, corruption,
// tampering, or a blob encrypted under another at-rest key.
class BlobError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace plexus::store
