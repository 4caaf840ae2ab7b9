// Thin POSIX helpers shared by the at-rest key and blob files. They report
// failures through errno so that each caller can throw its own error type
// with the path and the operation that failed.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace plexus::store::io {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept;
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

    // Closes and ignores errors: for paths where the file is being discarded.
    void reset() noexcept;
    // Closes and reports close(2)'s outcome (false with errno set), since a
    // failed close can mean written data was lost.
    bool close() noexcept;

private:
    int fd_ = -1;
};

// Text for an errno value (thread-safe, unlike strerror).
std::string errnoText(int err);

// Writes all n bytes, retrying short writes and EINTR. False with errno set.
bool writeAll(int fd, const void* data, std::size_t n);

// Reads up to n bytes at offset, retrying short reads and EINTR; returns the
// bytes read (fewer than n only at end of file), or -1 with errno set.
ssize_t readAt(int fd, void* out, std::size_t n, std::uint64_t offset);

// fsync(2) retried on EINTR. False with errno set.
bool fsyncFd(int fd);

// Makes the entries of a directory durable. False with errno set.
bool fsyncDirectory(const std::string& dir);

}  // namespace plexus::store::io
