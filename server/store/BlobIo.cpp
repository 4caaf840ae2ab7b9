#include "store/BlobIo.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace plexus::store::io {

UniqueFd::UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept
{
    if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void UniqueFd::reset() noexcept
{
    if (valid())
        ::close(std::exchange(fd_, -1));
}

bool UniqueFd::close() noexcept
{
    // close(2) must not be retried on EINTR on Linux: the descriptor is gone.
    return !valid() || ::close(std::exchange(fd_, -1)) == 0;
}

std::string errnoText(int err)
{
    return std::generic_category().message(err);
}

bool writeAll(int fd, const void* data, std::size_t n)
{
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t written = ::write(fd, p, n);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += written;
        n -= static_cast<std::size_t>(written);
    }
    return true;
}

ssize_t readAt(int fd, void* out, std::size_t n, std::uint64_t offset)
{
    auto* p = static_cast<char*>(out);
    std::size_t total = 0;
    while (total < n) {
        const ssize_t got = ::pread(fd, p + total, n - total, static_cast<off_t>(offset + total));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            break;
        total += static_cast<std::size_t>(got);
    }
    return static_cast<ssize_t>(total);
}

bool fsyncFd(int fd)
{
    int rc;
    do
        rc = ::fsync(fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0;
}

bool fsyncDirectory(const std::string& dir)
{
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid())
        return false;
    if (!fsyncFd(fd.get())) {
        const int err = errno;  // closing must not clobber the fsync error
        fd.reset();
        errno = err;
        return false;
    }
    return fd.close();
}

}  // namespace plexus::store::io
