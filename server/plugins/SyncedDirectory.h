// The plugin SDK's directory service once the national directory's local copy
// (directory/) is there: this instance's own mailboxes answer first (they are
// authoritative for our domains), then the synced and imported directory.
#pragma once

#include "plugins/DirectoryService.h"
#include "store/ConnectionPool.h"

namespace plexus::plugins {

class SyncedDirectory : public DirectoryService {
public:
    // `directory` reads the directory database (already migrated).
    SyncedDirectory(LocalDirectory& local, store::ConnectionPool& directory) : local_(local), directory_(directory) {}
    // Local mailbox, else the directory's (hidden "liste rouge" ones too: an
    // exact address is not a search).
    std::optional<DirectoryEntry> lookup(std::string_view address) override;
    // Local matches, then the directory's visible ones, best ranked first; no
    // address twice. `text` is free text (names, service, address...).
    std::vector<DirectoryEntry> search(const DirectoryQuery& query) override;

private:
    LocalDirectory& local_;
    store::ConnectionPool& directory_;
};

}  // namespace plexus::plugins
