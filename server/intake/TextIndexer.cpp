#include "intake/TextIndexer.h"

#include "mime/MessageStructure.h"
#include "mime/TextExtractor.h"
#include "store/FolderStore.h"

#include <Poco/Logger.h>

#include <utility>
#include <vector>

namespace plexus::intake {

namespace {
constexpr std::size_t kBatch = 8;  // a write job of about 10 ms: deliveries and flag changes wait behind it
}  // namespace

TextIndexer::TextIndexer(const store::MailboxStore& mailboxes, store::ConnectionPool& reads, store::CommitQueue& commits)
    : mailboxes_(mailboxes), reads_(reads), commits_(commits), worker_([this] { run(); })
{
}

TextIndexer::~TextIndexer()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
}

void TextIndexer::schedule(std::int64_t folderId)
{
    {
        std::lock_guard lock(mutex_);
        if (!queued_.insert(folderId).second) return;
        queue_.push_back(folderId);
    }
    wake_.notify_one();
}

void TextIndexer::indexNow(std::int64_t folderId)
{
    while (indexBatch(folderId, kBatch) == kBatch) {
    }
}

std::size_t TextIndexer::indexBatch(std::int64_t folderId, std::size_t limit)
{
    std::vector<std::pair<std::int64_t, mime::ExtractedText>> texts;  // by UID
    {
        auto db = reads_.acquire();
        for (const auto& message : store::FolderStore::unindexedMessages(*db, folderId, limit)) {
            try {
                const auto structure = mime::MessageStructure::fromJson(store::FolderStore::structure(*db, message.blobId));
                auto blob = mailboxes_.openBlob(message.blobPath);
                texts.emplace_back(message.uid, mime::extractText(structure, [&](std::uint64_t offset, std::uint64_t length) {
                                       return blob.readRange(offset, length);
                                   }));
            } catch (const std::exception& e) {
                // Unreadable: indexed empty, not retried forever.
                Poco::Logger::get("indexer").information("message file %s not indexed: %s", message.blobPath,
                                                         std::string(e.what()));
                texts.emplace_back(message.uid, mime::ExtractedText{});
            }
        }
    }
    if (texts.empty()) return 0;
    commits_.submit([&](store::Database& db) {
        for (const auto& [uid, text] : texts) store::FolderStore::indexText(db, folderId, uid, text.header, text.body);
    }).get();
    return texts.size();
}

void TextIndexer::run()
{
    try {
        // What was left unindexed when the server last stopped (or by a schema upgrade).
        auto db = reads_.acquire();
        for (const auto folderId : store::FolderStore::foldersToIndex(*db)) schedule(folderId);
    } catch (const std::exception& e) {
        Poco::Logger::get("indexer").warning("cannot list the folders to index: %s", std::string(e.what()));
    }
    for (;;) {
        std::int64_t folderId = 0;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            folderId = queue_.front();
            queue_.pop_front();
            queued_.erase(folderId);
        }
        try {
            // One batch, then the folder goes to the back: busy folders do not starve the others.
            if (indexBatch(folderId, kBatch) == kBatch) schedule(folderId);
        } catch (const std::exception& e) {
            // Left unindexed: the next SEARCH of the folder indexes it, or reports the error.
            Poco::Logger::get("indexer").warning("indexing folder %Ld failed: %s", folderId, std::string(e.what()));
        }
    }
}

}  // namespace plexus::intake
