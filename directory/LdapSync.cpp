#include "directory/LdapSync.h"

#include "directory/LdapConnection.h"
#include "directory/SyncControls.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/String.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <sstream>
#include <unordered_set>

namespace plexus::directory {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kProgressEvery = 2000;
// Entries handed to the write thread at a time.
constexpr std::size_t kChunk = 256;
constexpr std::size_t kSkippedSamples = 5;
// How often a waiting sync looks at SyncOptions::stopped.
constexpr auto kStopPoll = std::chrono::milliseconds(200);
// The sync state kept in the store: "rfc4533 BASE64-COOKIE", or "paged".
constexpr std::string_view kSyncStatePrefix = "rfc4533 ";

using Message = LdapMessage;
struct ControlsFree {
    void operator()(LDAPControl** controls) const { ldap_controls_free(controls); }
};
using Controls = std::unique_ptr<LDAPControl*, ControlsFree>;
struct ControlFree {
    void operator()(LDAPControl* control) const { ldap_control_free(control); }
};
using Control = std::unique_ptr<LDAPControl, ControlFree>;

std::string base64(const std::string& bytes)
{
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << bytes;
    encoder.close();
    return out.str();
}

std::string unbase64(const std::string& text)
{
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    return {std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>()};
}

std::string stateOf(const std::optional<std::string>& cookie)
{
    return cookie ? std::string(kSyncStatePrefix) + base64(*cookie) : "paged";
}

// The entryUUIDs named present in a refresh: a present phase names every entry
// (a million), so RFC 4122 texts are kept as fixed 36-byte keys in one vector,
// sorted once when asked, instead of a node and a string each.
class PresentSet {
public:
    void insert(std::string_view key)
    {
        if (key.size() != kUuidText) {
            others_.emplace(key);  // not an RFC 4122 text: a server's own form
            return;
        }
        Uuid uuid;
        std::ranges::copy(key, uuid.begin());
        uuids_.push_back(uuid);
        sorted_ = false;
    }
    bool contains(std::string_view key)
    {
        if (key.size() != kUuidText) return others_.contains(std::string(key));
        if (!sorted_) {
            std::ranges::sort(uuids_);
            sorted_ = true;
        }
        Uuid uuid;
        std::ranges::copy(key, uuid.begin());
        return std::ranges::binary_search(uuids_, uuid);
    }
    void clear()
    {
        uuids_.clear();
        others_.clear();
    }

private:
    static constexpr std::size_t kUuidText = 36;
    using Uuid = std::array<char, kUuidText>;
    std::vector<Uuid> uuids_;
    std::unordered_set<std::string> others_;
    bool sorted_ = true;
};

// What the reader hands the writer for one entry: its records, or none when it
// is malformed (what is held for its key is removed).
struct EntryWrite {
    std::string key;
    std::optional<MappedEntry> records;
};

// Store writes on a thread of their own during a refresh: reading and decoding
// LDAP messages overlaps SQLite, and the bounded queue makes the reader wait
// for the writer, so unread results stay in the socket, not in memory.
class WriteThread {
public:
    using Write = std::function<void(EntryWrite&)>;
    explicit WriteThread(Write write) : write_(std::move(write)), thread_([this] { run(); }) {}
    ~WriteThread()
    {
        {
            // A sync that failed: what is queued would be rolled back anyway.
            const std::lock_guard lock(mutex_);
            queue_.clear();
            closing_ = true;
        }
        changed_.notify_all();
        thread_.join();
    }
    WriteThread(const WriteThread&) = delete;
    WriteThread& operator=(const WriteThread&) = delete;

    // Queues the chunk, waiting while the queue is full; rethrows a write's failure.
    void push(std::vector<EntryWrite>&& chunk)
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.size() < kQueuedChunks || failure_; });
        rethrow();
        queue_.push_back(std::move(chunk));
        changed_.notify_all();
    }

    // Waits until every queued write is done; rethrows a write's failure.
    void drain()
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || failure_; });
        rethrow();
    }

private:
    static constexpr std::size_t kQueuedChunks = 8;

    void rethrow()
    {
        if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    }

    void run()
    {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [&] { return !queue_.empty() || closing_; });
            if (queue_.empty()) return;
            auto chunk = std::move(queue_.front());
            queue_.pop_front();
            busy_ = true;
            changed_.notify_all();
            lock.unlock();
            std::exception_ptr failure;
            try {
                for (auto& write : chunk) write_(write);
            } catch (...) {
                failure = std::current_exception();
            }
            lock.lock();
            busy_ = false;
            if (failure) {
                failure_ = failure;
                queue_.clear();  // what follows a failed write is not written
            }
            changed_.notify_all();
        }
    }

    Write write_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::vector<EntryWrite>> queue_;
    bool busy_ = false, closing_ = false;
    std::exception_ptr failure_;
    std::thread thread_;  // last: started once the rest is ready
};

// The server refused the Sync Request control: it has no content synchronization.
struct SyncUnavailable {};
// e-syncRefreshRequired (RFC 4533 §3.3.1): the cookie is too old, reload without it.
struct RefreshRequired {};

// A DirectoryStore batch that can be closed and reopened (Batch itself cannot move).
struct OpenBatch {
    explicit OpenBatch(DirectoryStore& store) : batch(store.begin()) {}
    DirectoryStore::Batch batch;
};

class SyncRun {
public:
    SyncRun(const LdapSettings& settings, DirectoryStore& store, const SyncOptions& options)
        : settings_(settings), store_(store), options_(options), source_(settings.source()),
          held_(store.count(RecordKind::mailbox, source_)), reader_(readAttributeNames(settings)),
          fresh_(held_ == 0 && store.count(RecordKind::person, source_) == 0 &&
                 store.count(RecordKind::structure, source_) == 0)
    {
        for (const auto& attribute : settings.mapping.attributes()) attributeNames_.push_back(attribute);
    }

    SyncSummary run()
    {
        const auto started = Clock::now();
        const auto state = store_.syncState(source_);
        std::optional<std::string> cookie;
        if (!options_.full && state && state->starts_with(kSyncStatePrefix))
            cookie = unbase64(state->substr(kSyncStatePrefix.size()));
        if (cookie && cookie->empty()) cookie.reset();
        summary_.reloaded = !cookie;

        const auto connection = LdapConnection::open(settings_);
        try {
            for (;;) {
                try {
                    refresh(connection, cookie);
                    break;
                } catch (const RefreshRequired&) {
                    // After a refresh without cookie, a second request would loop.
                    if (!cookie && !persisting_) throw SyncProtocolError("the server asked to reload a full refresh");
                    settle();
                    commitBatch();
                    summary_.reloaded = true;
                    cookie.reset();
                }
            }
        } catch (const SyncUnavailable&) {
            summary_.paged = summary_.reloaded = true;
            pagedRead(connection);
        }
        tally();
        summary_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        return summary_;
    }

private:
    // The mapped attributes, then entryUUID (paged reads ask for it).
    static std::vector<std::string> readAttributeNames(const LdapSettings& settings)
    {
        auto names = settings.mapping.attributes();
        names.emplace_back("entryuuid");
        return names;
    }

    std::vector<char*> attributeList(bool withEntryUuid)
    {
        std::vector<char*> list;
        for (auto& name : attributeNames_) list.push_back(name.data());
        if (withEntryUuid) list.push_back(entryUuidName_.data());
        list.push_back(nullptr);
        return list;
    }
    int scope() const { return settings_.oneLevel ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE; }

    bool stopRequested() const { return options_.stopped && options_.stopped(); }

    // The next message of search `id`; null once stopped. In the persist stage
    // the changes read so far are committed whenever no message is waiting.
    Message next(const LdapConnection& connection, int id)
    {
        LDAP* ldap = connection.handle();
        auto idle = Clock::duration::zero();
        for (;;) {
            if (stopRequested()) return nullptr;
            const bool pending = persisting_ && batch_;
            timeval wait{0, pending ? 0 : static_cast<suseconds_t>(std::chrono::microseconds(kStopPoll).count())};
            LDAPMessage* received = nullptr;
            const int type = ldap_result(ldap, id, LDAP_MSG_ONE, &wait, &received);
            if (type > 0) return Message(received);
            if (type < 0) {
                int code = LDAP_SERVER_DOWN;
                ldap_get_option(ldap, LDAP_OPT_RESULT_CODE, &code);
                connection.fail("sync interrupted", code);
            }
            if (pending) {
                commitBatch();
                continue;
            }
            idle += kStopPoll;
            if (!persisting_ && idle >= std::chrono::seconds(settings_.timeoutSeconds))
                connection.fail("no answer within " + std::to_string(settings_.timeoutSeconds) + " s", LDAP_TIMEOUT);
        }
    }

    // --- RFC 4533 refresh stage, then the persist stage when asked --------------
    void refresh(const LdapConnection& connection, const std::optional<std::string>& cookie)
    {
        LDAP* ldap = connection.handle();
        std::string value = encodeSyncRequest(options_.mode, cookie);
        berval ber{static_cast<ber_len_t>(value.size()), value.data()};
        LDAPControl* raw = nullptr;
        if (const int rc = ldap_control_create(LDAP_CONTROL_SYNC, 1, &ber, 1, &raw); rc != LDAP_SUCCESS)
            connection.fail("cannot build the Sync Request control", rc);
        const Control request(raw);
        LDAPControl* controls[] = {request.get(), nullptr};
        auto attributes = attributeList(false);
        int id = 0;
        if (const int rc = ldap_search_ext(ldap, settings_.baseDn.c_str(), scope(), settings_.filter.c_str(),
                                           attributes.data(), 0, controls, nullptr, nullptr, LDAP_NO_LIMIT, &id);
            rc != LDAP_SUCCESS)
            connection.fail("search failed", rc);
        present_.clear();
        deletions_.clear();
        presentPhase_ = persisting_ = false;
        cookie_ = cookie;
        std::size_t seen = 0;
        for (;;) {
            const Message message = next(connection, id);
            if (!message) {
                // RFC 4533 §3.4: abandoning ends a persist search; what was read is kept.
                ldap_abandon_ext(ldap, id, nullptr, nullptr);
                settle();
                commitBatch();
                summary_.stopped = true;
                return;
            }
            switch (ldap_msgtype(message.get())) {
            case LDAP_RES_SEARCH_ENTRY:
                if (persisting_) onPersistEntry(connection, message.get());
                else onSyncEntry(connection, message.get());
                ++seen;
                break;
            case LDAP_RES_INTERMEDIATE: onSyncInfo(connection, message.get()); break;
            case LDAP_RES_SEARCH_RESULT: onSyncDone(connection, message.get(), seen); return;
            default: break;  // references: not followed
            }
        }
    }

    static SyncStateValue syncStateOf(const LdapConnection& connection, LDAPMessage* entry)
    {
        LDAPControl** raw = nullptr;
        if (const int rc = ldap_get_entry_controls(connection.handle(), entry, &raw); rc != LDAP_SUCCESS)
            connection.fail("cannot read an entry's controls", rc);
        const Controls controls(raw);
        const LDAPControl* control = ldap_control_find(LDAP_CONTROL_SYNC_STATE, controls.get(), nullptr);
        if (!control) throw SyncProtocolError("an entry came without its Sync State control");
        return decodeSyncState({control->ldctl_value.bv_val, control->ldctl_value.bv_len});
    }

    void onSyncEntry(const LdapConnection& connection, LDAPMessage* entry)
    {
        const auto state = syncStateOf(connection, entry);
        if (state.cookie) cookie_ = state.cookie;
        switch (state.state) {
        case SyncState::Present: present_.insert(state.entryUuid); break;
        case SyncState::Add:
        case SyncState::Modify:
            present_.insert(state.entryUuid);
            apply(connection, entry, state.entryUuid);
            break;
        case SyncState::Delete: deletions_.push_back(state.entryUuid); break;
        }
    }

    void onSyncInfo(const LdapConnection& connection, LDAPMessage* message)
    {
        char* oid = nullptr;
        berval* data = nullptr;
        if (const int rc = ldap_parse_intermediate(connection.handle(), message, &oid, &data, nullptr, 0);
            rc != LDAP_SUCCESS)
            connection.fail("cannot parse an intermediate message", rc);
        const std::unique_ptr<char, void (*)(void*)> oidOwner(oid, ldap_memfree);
        const std::unique_ptr<berval, void (*)(berval*)> dataOwner(data, ber_bvfree);
        if (!oid || std::string_view(oid) != LDAP_SYNC_INFO || !data) return;
        const auto info = decodeSyncInfo({data->bv_val, data->bv_len});
        if (info.cookie) cookie_ = info.cookie;
        using Kind = SyncInfoValue::Kind;
        if (persisting_) {
            // §3.4: in the persist stage a syncIdSet names deleted entries.
            if (info.kind == Kind::SyncIdSet && info.refreshDeletes) removePersisted(info.uuids);
            else if (info.cookie) batch();  // a new cookie alone is committed too
            return;
        }
        switch (info.kind) {
        case Kind::SyncIdSet:
            for (const auto& uuid : info.uuids) {
                if (info.refreshDeletes) deletions_.push_back(uuid);
                else present_.insert(uuid);
            }
            break;
        case Kind::RefreshPresent:
        case Kind::RefreshDelete:
            if (info.kind == Kind::RefreshPresent) presentPhase_ = true;
            // §2.5: refreshDone ends the refresh stage of a refreshAndPersist search.
            if (info.refreshDone && options_.mode == SyncMode::RefreshAndPersist) {
                finish(presentPhase_ || summary_.reloaded, std::optional<std::string>(cookie_.value_or("")));
                persisting_ = true;
            }
            break;
        case Kind::NewCookie: break;
        }
    }

    // --- persist stage: each change on its own, committed with its cookie -----
    void onPersistEntry(const LdapConnection& connection, LDAPMessage* entry)
    {
        const auto state = syncStateOf(connection, entry);
        if (state.cookie) cookie_ = state.cookie;
        switch (state.state) {
        case SyncState::Add:
        case SyncState::Modify: apply(connection, entry, state.entryUuid); break;
        case SyncState::Delete: removePersisted({state.entryUuid}); break;
        case SyncState::Present: break;  // not sent in this stage
        }
    }

    void removePersisted(const std::vector<std::string>& keys)
    {
        // A list of deletions is still a bulk change: the brake holds.
        if (!options_.force && keys.size() > 1 &&
            static_cast<double>(keys.size()) > settings_.maxDeleteShare * static_cast<double>(held_))
            throw SafetyBrakeError(keys.size(), held_, settings_.maxDeleteShare);
        auto& writes = batch();
        for (const auto& key : keys)
            if (removeRecords(writes, key)) ++summary_.deleted;
        inBatch_ += keys.size();
        if (inBatch_ >= static_cast<std::size_t>(settings_.batchSize)) commitBatch();
    }

    void onSyncDone(const LdapConnection& connection, LDAPMessage* message, std::size_t seen)
    {
        int code = LDAP_SUCCESS;
        LDAPControl** raw = nullptr;
        if (const int rc = ldap_parse_result(connection.handle(), message, &code, nullptr, nullptr, nullptr, &raw, 0);
            rc != LDAP_SUCCESS)
            connection.fail("cannot parse the search result", rc);
        const Controls controls(raw);
        if (code == LDAP_UNAVAILABLE_CRITICAL_EXTENSION && seen == 0) throw SyncUnavailable{};
        if (code == LDAP_SYNC_REFRESH_REQUIRED) throw RefreshRequired{};
        if (persisting_) {
            // The server ended the persist search: keep what came, then say why.
            settle();
            commitBatch();
            checkResult(connection, code);
            return;
        }
        checkResult(connection, code);
        const LDAPControl* control = ldap_control_find(LDAP_CONTROL_SYNC_DONE, controls.get(), nullptr);
        if (!control) throw SyncProtocolError("the sync ended without its Sync Done control");
        const auto done = decodeSyncDone({control->ldctl_value.bv_val, control->ldctl_value.bv_len});
        if (done.cookie) cookie_ = done.cookie;  // absent: the content has not moved (RFC 4533 §3.3.1)
        // refreshDeletes FALSE means present phase: whatever was not named present
        // is gone. Without a cookie every entry was sent: the same holds.
        finish(!done.refreshDeletes || presentPhase_ || summary_.reloaded,
               std::optional<std::string>(cookie_.value_or("")));
    }

    void checkResult(const LdapConnection& connection, int code)
    {
        if (code == LDAP_SIZELIMIT_EXCEEDED)
            connection.fail("the server's size limit stopped the read; set directory.ldap.page_size below it, or "
                            "raise the limit for the bind identity",
                            code);
        if (code != LDAP_SUCCESS) connection.fail("search failed", code);
    }

    // --- RFC 2696 paged full read -------------------------------------------
    void pagedRead(const LdapConnection& connection)
    {
        LDAP* ldap = connection.handle();
        auto attributes = attributeList(true);
        present_.clear();
        deletions_.clear();
        std::string pageCookie;
        do {
            if (stopRequested()) {
                settle();
                commitBatch();
                summary_.stopped = true;
                return;
            }
            berval cookie{static_cast<ber_len_t>(pageCookie.size()), pageCookie.data()};
            LDAPControl* raw = nullptr;
            if (const int rc = ldap_create_page_control(ldap, settings_.pageSize, &cookie, 1, &raw); rc != LDAP_SUCCESS)
                connection.fail("cannot build the paged results control", rc);
            const Control page(raw);
            LDAPControl* controls[] = {page.get(), nullptr};
            timeval timeout{settings_.timeoutSeconds, 0};
            LDAPMessage* received = nullptr;
            const int rc = ldap_search_ext_s(ldap, settings_.baseDn.c_str(), scope(), settings_.filter.c_str(),
                                             attributes.data(), 0, controls, nullptr, &timeout, LDAP_NO_LIMIT,
                                             &received);
            const Message result(received);
            if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) connection.fail("paged search failed", rc);
            for (auto* entry = ldap_first_entry(ldap, result.get()); entry; entry = ldap_next_entry(ldap, entry)) {
                const bool read = reader_.read(ldap, entry, values_);
                if (!read || values_.back().empty()) {
                    skip(connection, entry, read ? "no entryUUID" : "its attributes do not decode");
                    continue;
                }
                const auto key = Poco::toLower(std::string(values_.back()));
                present_.insert(key);
                applyRead(connection, entry, key);
            }
            int code = LDAP_SUCCESS;
            LDAPControl** responseRaw = nullptr;
            if (const int parsed = ldap_parse_result(ldap, result.get(), &code, nullptr, nullptr, nullptr,
                                                     &responseRaw, 0);
                parsed != LDAP_SUCCESS)
                connection.fail("cannot parse the paged search result", parsed);
            const Controls response(responseRaw);
            checkResult(connection, code);
            const LDAPControl* control = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, response.get(), nullptr);
            if (!control) throw LdapError(connection.describe("the server ignored the paged results control", code), code);
            ber_int_t estimate = 0;
            berval next{};
            if (const int parsed = ldap_parse_pageresponse_control(ldap, const_cast<LDAPControl*>(control), &estimate, &next);
                parsed != LDAP_SUCCESS)
                connection.fail("cannot parse the paged results control", parsed);
            pageCookie.assign(next.bv_val ? next.bv_val : "", next.bv_len);
            ber_memfree(next.bv_val);
        } while (!pageCookie.empty());
        finish(true, std::nullopt);
    }

    // --- records ---------------------------------------------------------------

    void skip(const LdapConnection& connection, LDAPMessage* entry, const std::string& reason)
    {
        ++summary_.skipped;
        if (summary_.skippedSamples.size() >= kSkippedSamples) return;
        char* dn = ldap_get_dn(connection.handle(), entry);
        summary_.skippedSamples.push_back(std::string(dn ? dn : "?") + ": " + reason);
        ldap_memfree(dn);
    }

    DirectoryStore::Batch& batch()
    {
        if (!batch_) batch_.emplace(store_);
        return batch_->batch;
    }

    void apply(const LdapConnection& connection, LDAPMessage* entry, const std::string& key)
    {
        if (!reader_.read(connection.handle(), entry, values_)) {
            skip(connection, entry, "its attributes do not decode");
            write(EntryWrite{key, std::nullopt});
            return;
        }
        applyRead(connection, entry, key);
    }

    // `entry` read into values_.
    void applyRead(const LdapConnection& connection, LDAPMessage* entry, const std::string& key)
    {
        auto mapped = settings_.mapping.mapValues(values_, source_, key);
        // A malformed entry: what we held for it no longer describes a valid mailbox.
        if (!mapped.entry) skip(connection, entry, mapped.problem);
        write(EntryWrite{key, std::move(mapped.entry)});
    }

    // In the refresh stage the writes go to the write thread in chunks; in the
    // persist stage each is written at once (its commit carries its cookie).
    void write(EntryWrite&& entry)
    {
        if (persisting_) {
            store(entry);
        } else {
            pending_.push_back(std::move(entry));
            if (pending_.size() >= kChunk) {
                if (!writer_) writer_.emplace([this](EntryWrite& queued) { store(queued); });
                writer_->push(std::exchange(pending_, {}));
            }
        }
        if (++applied_ % kProgressEvery == 0 && options_.progress) options_.progress(tally());
    }

    // Every write handed over is in the store's open batch (or committed).
    void settle()
    {
        if (writer_) writer_->drain();
        for (auto& entry : pending_) store(entry);
        pending_.clear();
    }

    // On the write thread in the refresh stage (the reader touches no batch
    // until settle()), else on the reader's.
    void store(EntryWrite& entry)
    {
        auto& writes = batch();
        if (!entry.records) {
            removeRecords(writes, entry.key);
        } else {
            const auto& records = *entry.records;
            const bool first = fresh_ && !persisting_;
            const auto upsert = [&](const auto& record) { return first ? writes.add(record) : writes.upsert(record); };
            const auto outcome = upsert(records.mailbox);
            bool changed = outcome == UpsertOutcome::changed;
            if (records.person) changed |= upsert(*records.person) != UpsertOutcome::unchanged;
            else changed |= writes.remove(RecordKind::person, source_, entry.key);
            if (records.structure) changed |= upsert(*records.structure) != UpsertOutcome::unchanged;
            else changed |= writes.remove(RecordKind::structure, source_, entry.key);
            if (outcome == UpsertOutcome::added) ++added_;
            else if (changed) ++changed_;
            else ++unchanged_;
        }
        if (++inBatch_ >= static_cast<std::size_t>(settings_.batchSize)) commitBatch();
    }

    // The summary with the write thread's counts so far.
    SyncSummary& tally()
    {
        summary_.added = added_;
        summary_.changed = changed_;
        summary_.unchanged = unchanged_;
        return summary_;
    }

    bool removeRecords(DirectoryStore::Batch& writes, const std::string& key)
    {
        bool removed = writes.remove(RecordKind::mailbox, source_, key);
        removed |= writes.remove(RecordKind::person, source_, key);
        removed |= writes.remove(RecordKind::structure, source_, key);
        return removed;
    }

    // In the persist stage every commit carries the cookie of what it holds.
    void commitBatch()
    {
        if (!batch_) return;
        if (persisting_) batch_->batch.setSyncState(source_, stateOf(std::optional<std::string>(cookie_.value_or(""))));
        batch_->batch.commit();
        batch_.reset();
        inBatch_ = 0;
        if (persisting_ && options_.committed) options_.committed(tally());
    }

    // Deletions (named ones, and with `reconcile` every key not seen present)
    // under the safety brake, then the new sync state, in one transaction.
    void finish(bool reconcile, const std::optional<std::string>& cookie)
    {
        settle();
        commitBatch();
        std::vector<std::string> gone;
        if (reconcile) {
            for (const auto& key : store_.keys(RecordKind::mailbox, source_))
                if (!present_.contains(key)) gone.push_back(key);
        }
        // A delete phase names a few keys: each is probed, the million held are not read.
        for (const auto& key : deletions_)
            if ((!reconcile || present_.contains(key)) && store_.contains(RecordKind::mailbox, source_, key))
                gone.push_back(key);
        if (!options_.force && static_cast<double>(gone.size()) > settings_.maxDeleteShare * static_cast<double>(held_))
            throw SafetyBrakeError(gone.size(), held_, settings_.maxDeleteShare);
        auto& writes = batch();
        for (const auto& key : gone)
            if (removeRecords(writes, key)) ++summary_.deleted;
        writes.setSyncState(source_, stateOf(cookie));
        commitBatch();
        if (options_.progress) options_.progress(tally());
        if (options_.committed) options_.committed(tally());
    }

    const LdapSettings& settings_;
    DirectoryStore& store_;
    const SyncOptions& options_;
    const std::string source_;
    const std::size_t held_;  // mailboxes held for the source when the sync began
    std::vector<std::string> attributeNames_;
    std::string entryUuidName_ = "entryUUID";
    AttributeReader reader_;
    AttributeValues values_;  // the entry being applied, reused
    // Nothing held for the source when the sync began: a first load, inserts without probes.
    const bool fresh_;
    SyncSummary summary_;
    std::atomic<std::size_t> added_ = 0, changed_ = 0, unchanged_ = 0;  // counted by store()
    std::optional<OpenBatch> batch_;
    std::size_t inBatch_ = 0, applied_ = 0;
    std::vector<EntryWrite> pending_;  // the chunk the write thread gets next
    std::optional<WriteThread> writer_;  // after batch_: stopped before it is rolled back
    PresentSet present_;
    std::vector<std::string> deletions_;
    std::optional<std::string> cookie_;  // the latest the server gave, else the one sent
    bool presentPhase_ = false;          // a Sync Info refreshPresent ended a present phase
    bool persisting_ = false;            // refreshAndPersist, past refreshDone
};

}  // namespace

SafetyBrakeError::SafetyBrakeError(std::size_t deletions, std::size_t held, double maxShare)
    : std::runtime_error("safety brake: this sync would delete " + std::to_string(deletions) + " of the " +
                         std::to_string(held) + " entries held (more than " +
                         std::to_string(static_cast<int>(maxShare * 100 + 0.5)) +
                         "%); nothing was deleted and the sync point was kept; run again with --force to accept"),
      deletions_(deletions)
{
}

SyncSummary syncFromLdap(const LdapSettings& settings, DirectoryStore& store, const SyncOptions& options)
{
    return SyncRun(settings, store, options).run();
}

}  // namespace plexus::directory
