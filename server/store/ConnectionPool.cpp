#include "store/ConnectionPool.h"

namespace plexus::store {

ConnectionPool::Lease::~Lease()
{
    if (db_) pool_->giveBack(std::move(db_));
}

ConnectionPool::Lease ConnectionPool::acquire()
{
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto db = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(db));
        }
    }
    auto db = std::make_unique<Database>(path_);
    // The kernel's page cache holds the file already: a small cache of its own
    // per connection keeps the pool a few MiB (SQLite's default is 2 MiB each).
    db->execute("PRAGMA cache_size = -1024");
    if (setUp_) setUp_(*db);
    return Lease(*this, std::move(db));
}

void ConnectionPool::giveBack(std::unique_ptr<Database> db)
{
    std::lock_guard lock(mutex_);
    if (idle_.size() < maxIdle_) idle_.push_back(std::move(db));
}

}  // namespace plexus::store
