#include "trust/AtomicFile.h"

#include "store/BlobIo.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace plexus::trust {

namespace {

namespace fs = std::filesystem;
namespace io = store::io;

[[noreturn]] void fail(const std::string& what, int error) { throw FileError(what + ": " + io::errnoText(error)); }

}  // namespace

void replaceFile(const std::string& path, std::string_view content, mode_t newFileMode)
{
    struct stat existing {};
    const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : newFileMode;
    std::string temporary = path + ".tmp.XXXXXX";
    io::UniqueFd fd(::mkstemp(temporary.data()));
    if (!fd.valid()) fail("cannot create a temporary file beside " + path, errno);
    if (!io::writeAll(fd.get(), content.data(), content.size()) || ::fchmod(fd.get(), mode) != 0 ||
        !io::fsyncFd(fd.get()) || !fd.close()) {
        const int error = errno;
        ::unlink(temporary.c_str());
        fail("cannot write " + temporary, error);
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        fail("cannot replace " + path, error);
    }
    const auto folder = fs::path(path).parent_path();
    if (!io::fsyncDirectory(folder.empty() ? "." : folder.string())) fail("cannot fsync " + folder.string(), errno);
}

std::string readFile(const std::string& path, std::size_t maxBytes)
{
    std::error_code error;
    const auto size = fs::file_size(path, error);
    if (error) throw FileError("cannot read " + path + ": " + error.message());
    if (size > maxBytes)
        throw FileError(path + " has " + std::to_string(size) + " bytes, more than the limit of " +
                        std::to_string(maxBytes));
    std::string content(size, '\0');
    std::ifstream in(path, std::ios::binary);
    if (!in.read(content.data(), static_cast<std::streamsize>(size))) throw FileError("cannot read " + path);
    return content;
}

}  // namespace plexus::trust
