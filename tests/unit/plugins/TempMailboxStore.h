// A MailboxStore over a temporary folder, for the plugins' message tests,
// and messages received into it as SMTP receives them.
#pragma once

#include "intake/MessageReceiver.h"
#include "store/MailboxStore.h"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::plugins::test {

// "\n" line ends as CRLF, so test messages read naturally.
inline std::string crlf(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

class TempMailboxStore {
public:
    static constexpr std::uint64_t kMaxSize = 50 << 20;
    static constexpr std::uint64_t kMaxHeaderSize = 256 << 10;

    TempMailboxStore()
    {
        char pattern[] = "/tmp/plexus-plugin-message-XXXXXX";
        dir_ = mkdtemp(pattern);
        store::AtRestKey::generateFile(dir_ + "/key");
        store_.emplace(blobDirectory(), store::AtRestKey::loadFile(dir_ + "/key"));
    }
    ~TempMailboxStore() { std::filesystem::remove_all(dir_); }
    TempMailboxStore(const TempMailboxStore&) = delete;
    TempMailboxStore& operator=(const TempMailboxStore&) = delete;

    const store::MailboxStore& store() const { return *store_; }

    intake::MessageReceiver::Received receive(std::string_view content) const
    {
        intake::MessageReceiver receiver(*store_, kMaxSize, kMaxHeaderSize);
        receiver.append(content);
        return receiver.finish();
    }

    std::string blobContent(const std::string& blobPath) const { return store_->openBlob(blobPath).readAll(); }

    // Blob files on disk, finished or not.
    std::size_t blobFileCount() const
    {
        std::size_t count = 0;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(blobDirectory()))
            count += entry.is_regular_file() ? 1 : 0;
        return count;
    }

private:
    std::string blobDirectory() const { return dir_ + "/blobs"; }

    std::string dir_;
    std::optional<store::MailboxStore> store_;
};

}  // namespace plexus::plugins::test
