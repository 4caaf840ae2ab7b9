// The local append-only audit file: one record per line, "<unique id> <AuditMessage XML>",
// written and fsynced before send() returns. A line cut by a crash is
// closed by the next write's line break, and its record comes again.
#pragma once

#include "AuditTransport.h"

#include <string>

namespace plexus::atna {

class FileTransport final : public AuditTransport {
public:
    explicit FileTransport(std::string path);
    ~FileTransport() override;

    std::string name() const override { return "file"; }
    void send(const AuditRecord& record) override;

private:
    void open();
    void close() noexcept;

    std::string path_;
    int fd_ = -1;
    bool cutLine_ = false;  // the file ends inside a line
};

}  // namespace plexus::atna
