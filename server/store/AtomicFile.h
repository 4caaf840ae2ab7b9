// A file replaced atomically: written to a temporary file beside the target,
// fsynced, renamed over it, and the folder fsynced, so that a crash leaves the
// old file or the new one, never half of one. Not committed = removed.
#pragma once

#include "store/BlobIo.h"

#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::store {

class FileError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class AtomicFile {
public:
    // Creates TARGET.tmp.XXXXXX; throws FileError.
    explicit AtomicFile(std::string target);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(std::string_view data);
    // Gives the file `mode`, makes it durable and puts it in place of the target.
    void commit(mode_t mode);

private:
    std::string target_;
    std::string path_;
    io::UniqueFd fd_;
    bool renamed_ = false;
};

}  // namespace plexus::store
