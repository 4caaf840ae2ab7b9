#include "store/AtomicFile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace plexus::store {

AtomicFile::AtomicFile(std::string target)
    : target_(std::move(target)), path_(target_ + ".tmp.XXXXXX"), fd_(::mkstemp(path_.data()))
{
    if (!fd_.valid()) throw FileError("cannot create " + path_ + ": " + io::errnoText(errno));
}

AtomicFile::~AtomicFile()
{
    if (!renamed_) ::unlink(path_.c_str());
}

void AtomicFile::write(std::string_view data)
{
    if (!io::writeAll(fd_.get(), data.data(), data.size()))
        throw FileError("cannot write " + path_ + ": " + io::errnoText(errno));
}

void AtomicFile::commit(mode_t mode)
{
    if (::fchmod(fd_.get(), mode) != 0 || !io::fsyncFd(fd_.get()) || !fd_.close())
        throw FileError("cannot write " + path_ + ": " + io::errnoText(errno));
    if (::rename(path_.c_str(), target_.c_str()) != 0)
        throw FileError("cannot replace " + target_ + ": " + io::errnoText(errno));
    renamed_ = true;
    const auto dir = std::filesystem::path(target_).parent_path();
    if (!io::fsyncDirectory(dir.empty() ? "." : dir.string()))
        throw FileError("cannot fsync " + dir.string() + ": " + io::errnoText(errno));
}

}  // namespace plexus::store
