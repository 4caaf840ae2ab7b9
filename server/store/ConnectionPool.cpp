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
    return Lease(*this, std::make_unique<Database>(path_));
}

void ConnectionPool::giveBack(std::unique_ptr<Database> db)
{
    std::lock_guard lock(mutex_);
    if (idle_.size() < maxIdle_) idle_.push_back(std::move(db));
}

}  // namespace plexus::store
