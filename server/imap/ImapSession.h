// One IMAP session: the state machine of RFC 3501 §3 and one handler per
// command. Internal to the imap module; runImapSession() is the entry point.
#pragma once

#include "events/SessionEnd.h"
#include "imap/Command.h"
#include "imap/Fetch.h"
#include "imap/ImapServer.h"
#include "imap/MailboxNamespace.h"
#include "imap/SelectedMailbox.h"
#include "imap/Search.h"
#include "imap/Sort.h"

#include <Poco/Logger.h>

#include <chrono>
#include <memory>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace plexus::imap {

// A refused command: its tagged status ("NO", "BAD") and text, response code included.
struct CommandFailure {
    std::string status;
    std::string text;
};

// Thrown once the server has said BYE in the middle of a command (the
// selected mailbox was deleted, access withdrawn): no tagged answer follows.
struct SessionClosed {};

// Owned by a shared_ptr: the accepting thread starts it with serve(); while
// it idles it belongs to the parker, which resumes it on a pool thread (run()).
class ImapSession : public net::IdleParker::Parked, public std::enable_shared_from_this<ImapSession> {
public:
    ImapSession(Poco::Net::StreamSocket& socket, ImapService service, const ImapSettings& settings,
                ImapServices& services, const std::function<bool()>& stopping);
    // TLS (IMAPS), greeting, then commands.
    void serve();
    void resumed(std::shared_ptr<Parked> self) override { keepAlive_ = std::move(self); }
    void run() override;

private:
    enum class State { NotAuthenticated, Authenticated, Selected, Logout };
    using Args = std::vector<Arg>;

    void dispatch(Command& command);
    void dispatchUid(Command& command);

    // Any state (RFC 3501 §6.1)
    void handleCapability(const Command& command);
    void handleNoop(const Command& command);
    void handleLogout(const Command& command);
    void handleId(const Command& command);        // RFC 2971
    void handleEnable(const Command& command);    // RFC 5161
    // Not authenticated (§6.2)
    void handleStartTls(const Command& command);
    void handleAuthenticate(const Command& command);
    void handleLogin(const Command& command);
    // Authenticated (§6.3), in MailboxCommands.cpp
    void handleSelect(const Command& command, bool readOnly);
    void handleCreate(const Command& command);
    void handleDelete(const Command& command);
    void handleRename(const Command& command);
    void handleSubscribe(const Command& command, bool subscribe);
    void handleList(const Command& command, bool lsub);
    void handleStatus(const Command& command);
    void handleAppend(Command& command);
    void handleNamespace(const Command& command);  // RFC 2342
    void handleIdle(const Command& command);       // RFC 2177
    // Commands until the session ends or parks; returns at once when parked.
    void proceed();
    // Flushes what is left to say and records the logout; the session is over.
    void finish();
    void handleGetAcl(const Command& command);     // RFC 4314
    void handleSetAcl(const Command& command, bool remove);
    void handleListRights(const Command& command);
    void handleMyRights(const Command& command);
    void handleGetQuota(const Command& command);   // RFC 9208
    void handleGetQuotaRoot(const Command& command);
    void handleSetQuota(const Command& command);
    // Selected (§6.4), in MessageCommands.cpp; `uid` for the UID forms
    void handleCheck(const Command& command);
    void handleClose(const Command& command, bool expunge);  // CLOSE, UNSELECT (RFC 3691)
    void handleExpunge(const Command& command, bool uid);
    void handleSearch(const Command& command, bool uid, std::size_t first);
    void handleFetch(const Command& command, bool uid, std::size_t first);
    void handleStore(const Command& command, bool uid, std::size_t first);
    void handleCopy(const Command& command, bool uid, std::size_t first, bool move);
    void handleSort(const Command& command, bool uid, std::size_t first);    // RFC 5256
    void handleThread(const Command& command, bool uid, std::size_t first);

    // Responses
    void untagged(const std::string& text) { connection_.write("* " + text + "\r\n"); }
    void tagged(const Command& command, const std::string& status, const std::string& text);
    void ok(const Command& command, const std::string& text = {});
    void no(const Command& command, const std::string& text);
    void bad(const Command& command, const std::string& text);
    std::string capabilities() const;

    // Helpers
    std::string peer() const { return connection_.peerAddress(); }
    void startTls();
    void completeLogin(const Command& command, const accounts::AuthOutcome& outcome, const std::string& mechanism);
    std::optional<std::string> readSaslResponse(const Command& command);
    void recordEvent(const std::string& type, const std::string& object, const std::string& outcome,
                     const std::string& detailJson = "{}");
    void recordEvent(const events::Event& event);
    // Mailbox name argument: astring in modified UTF-7, decoded; throws CommandFailure.
    std::string mailboxArg(const Args& args, std::size_t index) const;
    std::optional<VisibleFolder> resolve(const std::string& name);
    // Refreshes the selected view: untagged EXISTS/RECENT, FETCH for flag
    // changes and, when `expungesAllowed`, EXPUNGE/VANISHED (RFC 3501 §7.4.1
    // forbids EXPUNGE during FETCH, STORE and SEARCH).
    void refresh(bool expungesAllowed, bool force = false);
    void loadView(SelectedMailbox& view, bool claimRecent);
    // Sequence set argument → UIDs in the view (`uid`: the set holds UIDs).
    std::vector<std::uint32_t> selectUids(const std::string& set, bool uid) const;
    std::string flagsOf(const ViewMessage& message) const;
    CommandFailure readOnlyFailure() const;
    // Expunges the view's \Deleted messages (only those `among`, for UID EXPUNGE); false if none.
    bool expungeDeleted(const std::optional<std::set<std::uint32_t>>& among);
    [[noreturn]] void closeSession(const std::string& reason);
    void sendFlagUpdate(const ViewMessage& message, bool withUid, bool withModseq);
    // SEARCH, SORT, THREAD: sequence numbers of the matching messages, ascending.
    std::vector<std::uint32_t> searchMessages(const SearchKey& key);
    std::vector<SortData> sortData(const std::vector<std::uint32_t>& sequences, bool uid);
    // Runs a write job and waits for it to be durable; notifies folder changes.
    void write(const std::function<void(store::Database&)>& job, const std::vector<std::int64_t>& changedFolders = {});

    net::Connection connection_;
    ImapService service_;
    const ImapSettings& settings_;
    ImapServices& services_;
    Poco::Logger& log_;
    CommandReader reader_;
    State state_ = State::NotAuthenticated;
    std::optional<MailboxNamespace> namespace_;
    std::optional<SelectedMailbox> selected_;
    std::vector<std::string> certificateNames_;
    bool condstore_ = false;  // RFC 7162: enabled by ENABLE or a CONDSTORE-using command
    bool qresync_ = false;
    unsigned errorsInARow_ = 0;
    events::SessionEnd ending_ = events::SessionEnd::Closed;  // told in auth.logout
    // RFC 2177: the IDLE command in progress, until DONE.
    struct Idling {
        Command command;
        std::chrono::steady_clock::time_point deadline;
        // What the next turn does: look for changes and DONE; park at the top of
        // proceed() (nothing to do but wait); or wait on this thread (the parker
        // is full or stopping).
        enum class Next { Look, Park, WaitHere } next = Next::Look;
    };
    std::optional<Idling> idling_;
    std::shared_ptr<Parked> keepAlive_;  // the parker's reference, for run()
};

}  // namespace plexus::imap
