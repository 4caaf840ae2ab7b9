// Brings the directory's copy of one LDAP source up to date.
//
// With a server that offers RFC 4533 content synchronization (OpenLDAP's
// syncprov), a refreshOnly Sync Operation resumes from the cookie the last
// successful sync kept in the store: changed entries come as add/modify,
// deletions as delete states or syncIdSet UUID lists (delete phase), or, after
// a provider restart, only the unchanged entries are named (present phase) and
// every other key held for the source is deleted. Entries are keyed by
// entryUUID, so a rename keeps its records. A server that refuses the Sync
// Request control gets RFC 2696 paged full reads, reconciled the same way.
//
// Adds and changes are committed every batch_size entries; deletions and the
// new cookie are committed together at the end, so a sync killed half way
// resumes from the old cookie and loses nothing. The safety brake refuses a
// sync that would delete more than max_delete_share of the entries held
// (nothing deleted, cookie not advanced) unless forced.
//
// refreshAndPersist (RFC 4533 §3.4, plexusd): the refresh stage ends with a
// Sync Info refreshDelete/refreshPresent carrying refreshDone (§2.5) instead of
// a SearchResultDone; the search then stays open and every later Sync State
// (add, modify, delete) or syncIdSet is applied as it arrives, committed with
// its cookie as soon as no further message is waiting (at most batch_size
// entries a transaction). The stop callback ends it: the search is abandoned
// and the connection unbound. e-syncRefreshRequired (4096) restarts with a full
// refresh, in either stage.
#pragma once

#include "directory/DirectoryStore.h"
#include "directory/LdapSettings.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::directory {

struct SyncSummary {
    std::size_t added = 0, changed = 0, unchanged = 0, deleted = 0, skipped = 0;
    bool paged = false;                // the server has no content synchronization
    bool reloaded = false;             // no usable cookie: every entry was read
    bool stopped = false;              // ended by SyncOptions::stopped
    std::vector<std::string> skippedSamples;  // "DN: reason", the first few
    std::chrono::milliseconds elapsed{0};
};

struct SyncOptions {
    bool full = false;   // ignore the cookie: read every entry, reconcile
    bool force = false;  // release the safety brake
    // Called every few thousand entries with the counts so far.
    std::function<void(const SyncSummary&)> progress;
    // RefreshAndPersist: after the refresh, apply changes as they come until stopped.
    SyncMode mode = SyncMode::RefreshOnly;
    // Polled a few times a second: true ends the sync (what was read is kept,
    // committed with its cookie in the persist stage).
    std::function<bool()> stopped;
    // A new sync point was committed: the end of the refresh, then each persist batch.
    std::function<void(const SyncSummary&)> committed;
};

class SafetyBrakeError : public std::runtime_error {
public:
    SafetyBrakeError(std::size_t deletions, std::size_t held, double maxShare);
    std::size_t deletions() const { return deletions_; }

private:
    std::size_t deletions_;
};

// Throws LdapError (connection, bind, search, a dropped connection),
// SafetyBrakeError, SyncProtocolError. In persist mode returns only once stopped
// (or if the server ends the search).
SyncSummary syncFromLdap(const LdapSettings& settings, DirectoryStore& store, const SyncOptions& options = {});

}  // namespace plexus::directory
