// Whole-file reads and replacements for the trust files (whitelist copy, CA
// bundle, CRLs): a reader sees the old file or the new one, never a mix.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::trust {

class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Writes a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the folder. An existing file keeps its mode; a new one gets `newFileMode`.
void replaceFile(const std::string& path, std::string_view content, mode_t newFileMode = 0644);

// The file's bytes; throws FileError when it cannot be read or is larger than `maxBytes`.
std::string readFile(const std::string& path, std::size_t maxBytes);

}  // namespace plexus::trust
