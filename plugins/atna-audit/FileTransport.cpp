#include "FileTransport.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace plexus::atna {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int error)
{
    throw TransportError("audit file " + path + ": " + what + ": " + std::strerror(error));
}

// Whether the file's last byte is not a line break (a record cut by a crash).
bool endsMidLine(int fd)
{
    struct stat status {};
    if (fstat(fd, &status) != 0 || status.st_size == 0) return false;
    char last = '\n';
    return pread(fd, &last, 1, status.st_size - 1) == 1 && last != '\n';
}

}  // namespace

FileTransport::FileTransport(std::string path) : path_(std::move(path)) {}

FileTransport::~FileTransport()
{
    close();
}

void FileTransport::open()
{
    fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) fail(path_, "cannot open it", errno);
    cutLine_ = endsMidLine(fd_);
}

void FileTransport::close() noexcept
{
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void FileTransport::send(const AuditRecord& record)
{
    if (fd_ < 0) open();
    std::string line;
    if (cutLine_) line += '\n';
    line.append(record.uniqueId).append(" ").append(record.xml).append("\n");
    const char* data = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t written = ::write(fd_, data, left);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
            const int error = written < 0 ? errno : EIO;
            close();  // reopened, and the cut line closed, at the next attempt
            fail(path_, "cannot write to it", error);
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
    if (::fsync(fd_) != 0) {
        const int error = errno;
        close();
        fail(path_, "cannot fsync it", error);
    }
    cutLine_ = false;
}

}  // namespace plexus::atna
