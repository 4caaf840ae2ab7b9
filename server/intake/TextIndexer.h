// Fills the full-text index (FolderStore::indexText) in the background, so
// that SEARCH BODY/TEXT finds new messages indexed already: folders are
// queued after a delivery or an APPEND/COPY (and at start, those with messages
// left unindexed), and their unindexed messages are indexed a small batch per
// transaction, never holding up other writes long.
#pragma once

#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

namespace plexus::intake {

class TextIndexer {
public:
    TextIndexer(const store::MailboxStore& mailboxes, store::ConnectionPool& reads, store::CommitQueue& commits);
    ~TextIndexer();  // finishes the batch in hand, drops the queue (the next start or SEARCH resumes it)
    TextIndexer(const TextIndexer&) = delete;
    TextIndexer& operator=(const TextIndexer&) = delete;

    void schedule(std::int64_t folderId);
    // Indexes, now and durably, what the folder still lacks (SEARCH does before using the index).
    void indexNow(std::int64_t folderId);

private:
    // Indexes up to `limit` unindexed messages of the folder; returns how many.
    std::size_t indexBatch(std::int64_t folderId, std::size_t limit);
    void run();

    const store::MailboxStore& mailboxes_;
    store::ConnectionPool& reads_;
    store::CommitQueue& commits_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::int64_t> queue_;
    std::set<std::int64_t> queued_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace plexus::intake
