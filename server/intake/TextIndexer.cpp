#include "intake/TextIndexer.h"

#include "mime/MessageStructure.h"
#include "mime/TextExtractor.h"
#include "store/FolderStore.h"

#include <Poco/Logger.h>

#include <utility>
#include <vector>

namespace plexus::intake {

namespace {
constexpr std::size_t kBatch = 32;
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
    std::vector<std::pair<std::int64_t, mime::ExtractedText>> texts;
    {
        auto db = reads_.acquire();
        for (const auto& [blobId, path] : store::FolderStore::unindexedBlobs(*db, folderId)) {
            if (texts.size() == limit) break;
            try {
                const auto structure = mime::MessageStructure::fromJson(store::FolderStore::structure(*db, blobId));
                auto blob = mailboxes_.openBlob(path);
                texts.emplace_back(blobId, mime::extractText(structure, [&](std::uint64_t offset, std::uint64_t length) {
                                       return blob.readRange(offset, length);
                                   }));
            } catch (const std::exception& e) {
                // Expunged meanwhile (then no longer listed), or unreadable: indexed empty, not retried forever.
                Poco::Logger::get("indexer").information("message file %s not indexed: %s", path, std::string(e.what()));
                texts.emplace_back(blobId, mime::ExtractedText{});
            }
        }
    }
    if (texts.empty()) return 0;
    commits_.submit([&](store::Database& db) {
        for (const auto& [blobId, text] : texts) store::FolderStore::indexText(db, blobId, text.header, text.body);
    }).get();
    return texts.size();
}

void TextIndexer::run()
{
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
