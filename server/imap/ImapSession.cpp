#include "imap/ImapSession.h"

#include "accounts/Sasl.h"
#include "accounts/SaslServer.h"
#include "events/EventLog.h"
#include "imap/MailboxName.h"
#include "imap/ResponseSyntax.h"
#include "metrics/Metrics.h"
#include "net/TlsContext.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>


namespace plexus::imap {

namespace {

std::string serviceName(ImapService service)
{
    return service == ImapService::Imaps ? "imaps" : "imap";
}

metrics::Counter& commandCounter()
{
    return metrics::Registry::instance().counter("plexus_imap_commands_total", "IMAP commands handled");
}

}  // namespace

void runImapSession(Poco::Net::StreamSocket& socket, ImapService service, const ImapSettings& settings,
                    ImapServices& services, const std::function<bool()>& stopping)
{
    std::make_shared<ImapSession>(socket, service, settings, services, stopping)->serve();
}

ImapSession::ImapSession(Poco::Net::StreamSocket& socket, ImapService service, const ImapSettings& settings,
                         ImapServices& services, const std::function<bool()>& stopping)
    : connection_(socket, Poco::Timespan(settings.limits.loginTimeout.count(), 0), stopping),
      service_(service),
      settings_(settings),
      services_(services),
      log_(Poco::Logger::get(serviceName(service))),
      reader_(connection_, settings.limits.reader)
{
}

void ImapSession::serve()
{
    if (service_ == ImapService::Imaps) {
        try {
            startTls();
        } catch (const std::exception& e) {
            log_.information("TLS handshake with %s failed: %s", peer(), std::string(e.what()));
            return;
        }
    }
    untagged("OK [CAPABILITY " + capabilities() + "] " + settings_.hostname + " Plexus IMAP ready");
    proceed();
}

void ImapSession::run()
{
    const auto self = std::move(keepAlive_);  // alive until this thread is done with it
    proceed();
}

void ImapSession::proceed()
{
    try {
        while (state_ != State::Logout) {
            if (idling_) {
                if (idling_->next == Idling::Next::Park) {
                    idling_->next = Idling::Next::Look;  // once resumed (set before: it may resume at once)
                    const int fd = connection_.descriptor();
                    const auto key = selected_ ? selected_->folder.id : 0;
                    // Parked: another thread may run the session already; touch nothing.
                    if (services_.parker.park(shared_from_this(), fd, key, idling_->deadline)) return;
                    idling_->next = Idling::Next::WaitHere;
                }
                Command idle = idling_->command;  // handleIdle ends idling_ at DONE
                dispatch(idle);
                continue;
            }
            std::optional<Command> command;
            try {
                command = reader_.read();
            } catch (const CommandError& e) {
                connection_.write((e.tag().empty() ? "*" : e.tag()) + " BAD " + e.what() + "\r\n");
                if (++errorsInARow_ >= settings_.limits.errors) {
                    untagged("BYE Too many invalid commands");
                    break;
                }
                continue;
            }
            if (!command) {
                if (connection_.stopRequested()) {
                    untagged("BYE Server shutting down");
                    ending_ = events::SessionEnd::Shutdown;
                }
                break;
            }
            commandCounter().add();
            dispatch(*command);
        }
    } catch (const Poco::TimeoutException& e) {
        untagged("BYE Autologout; idle for too long");
        ending_ = events::sessionEndAfter(e, connection_.serverStopping());
    } catch (const Poco::Exception& e) {
        log_.information("connection with %s ended: %s", peer(), e.displayText());
        ending_ = events::sessionEndAfter(e, connection_.serverStopping());
    }
    finish();
}

void ImapSession::finish()
{
    // Once per session, whichever way it ended (RFC 9051 §6.1.3 LOGOUT or not).
    if (namespace_) recordEvent(events::logoutEvent(namespace_->user().address, peer(), serviceName(service_), ending_));
    try {
        connection_.flush();
    } catch (const Poco::Exception&) {
        // the peer is gone; nothing left to tell it
    }
}

void ImapSession::dispatch(Command& command)
{
    const std::string& name = command.name;
    const bool any = true;
    const bool notAuth = state_ == State::NotAuthenticated;
    const bool auth = state_ == State::Authenticated || state_ == State::Selected;
    const bool selected = state_ == State::Selected;
    auto allowed = [&](bool inState) {
        if (inState) return true;
        bad(command, notAuth ? "Log in first" : auth && !selected ? "Select a mailbox first" : "Not valid in this state");
        return false;
    };
    try {
        if (name == "CAPABILITY") { if (allowed(any)) handleCapability(command); }
        else if (name == "NOOP") { if (allowed(any)) handleNoop(command); }
        else if (name == "LOGOUT") { if (allowed(any)) handleLogout(command); }
        else if (name == "ID") { if (allowed(any)) handleId(command); }
        else if (name == "STARTTLS") { if (allowed(notAuth)) handleStartTls(command); }
        else if (name == "AUTHENTICATE") { if (allowed(notAuth)) handleAuthenticate(command); }
        else if (name == "LOGIN") { if (allowed(notAuth)) handleLogin(command); }
        else if (name == "ENABLE") { if (allowed(auth)) handleEnable(command); }
        else if (name == "SELECT") { if (allowed(auth)) handleSelect(command, false); }
        else if (name == "EXAMINE") { if (allowed(auth)) handleSelect(command, true); }
        else if (name == "CREATE") { if (allowed(auth)) handleCreate(command); }
        else if (name == "DELETE") { if (allowed(auth)) handleDelete(command); }
        else if (name == "RENAME") { if (allowed(auth)) handleRename(command); }
        else if (name == "SUBSCRIBE") { if (allowed(auth)) handleSubscribe(command, true); }
        else if (name == "UNSUBSCRIBE") { if (allowed(auth)) handleSubscribe(command, false); }
        else if (name == "LIST") { if (allowed(auth)) handleList(command, false); }
        else if (name == "LSUB") { if (allowed(auth)) handleList(command, true); }
        else if (name == "STATUS") { if (allowed(auth)) handleStatus(command); }
        else if (name == "APPEND") { if (allowed(auth)) handleAppend(command); }
        else if (name == "NAMESPACE") { if (allowed(auth)) handleNamespace(command); }
        else if (name == "IDLE") { if (allowed(auth)) handleIdle(command); }
        else if (name == "GETACL") { if (allowed(auth)) handleGetAcl(command); }
        else if (name == "SETACL") { if (allowed(auth)) handleSetAcl(command, false); }
        else if (name == "DELETEACL") { if (allowed(auth)) handleSetAcl(command, true); }
        else if (name == "LISTRIGHTS") { if (allowed(auth)) handleListRights(command); }
        else if (name == "MYRIGHTS") { if (allowed(auth)) handleMyRights(command); }
        else if (name == "GETQUOTA") { if (allowed(auth)) handleGetQuota(command); }
        else if (name == "GETQUOTAROOT") { if (allowed(auth)) handleGetQuotaRoot(command); }
        else if (name == "SETQUOTA") { if (allowed(auth)) handleSetQuota(command); }
        else if (name == "CHECK") { if (allowed(selected)) handleCheck(command); }
        else if (name == "CLOSE") { if (allowed(selected)) handleClose(command, true); }
        else if (name == "UNSELECT") { if (allowed(selected)) handleClose(command, false); }
        else if (name == "EXPUNGE") { if (allowed(selected)) handleExpunge(command, false); }
        else if (name == "SEARCH") { if (allowed(selected)) handleSearch(command, false, 0); }
        else if (name == "FETCH") { if (allowed(selected)) handleFetch(command, false, 0); }
        else if (name == "STORE") { if (allowed(selected)) handleStore(command, false, 0); }
        else if (name == "COPY") { if (allowed(selected)) handleCopy(command, false, 0, false); }
        else if (name == "MOVE") { if (allowed(selected)) handleCopy(command, false, 0, true); }
        else if (name == "SORT") { if (allowed(selected)) handleSort(command, false, 0); }
        else if (name == "THREAD") { if (allowed(selected)) handleThread(command, false, 0); }
        else if (name == "UID") { if (allowed(selected)) dispatchUid(command); }
        else bad(command, "Unknown command " + name.substr(0, 32));
    } catch (const SessionClosed&) {
        // BYE said; nothing more for this command.
    } catch (const CommandFailure& failure) {
        tagged(command, failure.status, failure.text);
    } catch (const CommandError& error) {
        bad(command, error.what());
    } catch (const store::FolderError& error) {
        static const std::map<store::FolderError::Code, std::string> codes{
            {store::FolderError::Code::NonExistent, "[NONEXISTENT] "}, {store::FolderError::Code::AlreadyExists, "[ALREADYEXISTS] "},
            {store::FolderError::Code::Cannot, "[CANNOT] "},           {store::FolderError::Code::OverQuota, "[OVERQUOTA] "},
            {store::FolderError::Code::NoPerm, "[NOPERM] "},           {store::FolderError::Code::Limit, "[LIMIT] "}};
        no(command, codes.at(error.code()) + error.what());
    } catch (const Poco::Exception&) {
        throw;  // the connection: handled by run()
    } catch (const std::exception& e) {
        log_.error("%s %s from %s failed: %s", command.tag, name, peer(), std::string(e.what()));
        no(command, "[SERVERBUG] Internal error; nothing was changed");
    }
    connection_.flush();
}

void ImapSession::dispatchUid(Command& command)
{
    if (command.args.empty() || !command.args[0].isAtom()) throw CommandFailure{"BAD", "UID needs a command"};
    const std::string sub = Poco::toUpper(command.args[0].text);
    if (sub == "FETCH") handleFetch(command, true, 1);
    else if (sub == "SEARCH") handleSearch(command, true, 1);
    else if (sub == "STORE") handleStore(command, true, 1);
    else if (sub == "COPY") handleCopy(command, true, 1, false);
    else if (sub == "MOVE") handleCopy(command, true, 1, true);
    else if (sub == "EXPUNGE") handleExpunge(command, true);
    else if (sub == "SORT") handleSort(command, true, 1);
    else if (sub == "THREAD") handleThread(command, true, 1);
    else throw CommandFailure{"BAD", "Unknown UID command " + sub.substr(0, 32)};
}

void ImapSession::tagged(const Command& command, const std::string& status, const std::string& text)
{
    if (status == "BAD") ++errorsInARow_; else errorsInARow_ = 0;
    connection_.write(command.tag + " " + status + " " + (text.empty() ? command.name + " completed" : text) + "\r\n");
    if (errorsInARow_ >= settings_.limits.errors) {
        untagged("BYE Too many invalid commands");
        state_ = State::Logout;
    }
}

void ImapSession::ok(const Command& command, const std::string& text) { tagged(command, "OK", text); }
void ImapSession::no(const Command& command, const std::string& text) { tagged(command, "NO", text); }
void ImapSession::bad(const Command& command, const std::string& text) { tagged(command, "BAD", text); }

std::string ImapSession::capabilities() const
{
    std::string caps = "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE "
                       "ACL RIGHTS=texk QUOTA QUOTA=RES-STORAGE SPECIAL-USE CONDSTORE QRESYNC ESEARCH SORT "
                       "THREAD=ORDEREDSUBJECT THREAD=REFERENCES";
    if (state_ != State::NotAuthenticated) return caps;
    if (!connection_.isTls()) return caps + " STARTTLS LOGINDISABLED";
    for (const auto& mechanism : accounts::saslMechanisms(services_.authenticator, !certificateNames_.empty()))
        caps += " AUTH=" + mechanism;
    return caps;
}

void ImapSession::recordEvent(const std::string& type, const std::string& object, const std::string& outcome,
                              const std::string& detailJson)
{
    recordEvent({type, namespace_ ? namespace_->user().address : "", peer(), object, outcome, detailJson});
}

void ImapSession::recordEvent(const events::Event& event)
{
    services_.commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
}

void ImapSession::write(const std::function<void(store::Database&)>& job, const std::vector<std::int64_t>& changedFolders)
{
    services_.commits.submit(job).get();
    for (const auto folder : changedFolders) services_.changes.notify(folder);
}

// RFC 3501 §6.1.1
void ImapSession::handleCapability(const Command& command)
{
    untagged("CAPABILITY " + capabilities());
    ok(command);
}

// RFC 3501 §6.1.2: also the client's way to poll for changes.
void ImapSession::handleNoop(const Command& command)
{
    if (state_ == State::Selected) refresh(true, true);
    ok(command);
}

// RFC 3501 §6.1.3
void ImapSession::handleLogout(const Command& command)
{
    untagged("BYE " + settings_.hostname + " logging out");
    ok(command);
    state_ = State::Logout;
    ending_ = events::SessionEnd::Logout;
}

// RFC 2971: the client's identification is logged (bounded), ours is given.
void ImapSession::handleId(const Command& command)
{
    if (command.args.size() != 1 || !(command.args[0].isNil() || command.args[0].isList()))
        throw CommandFailure{"BAD", "ID takes NIL or a list of field-value pairs"};
    const auto& fields = command.args[0].items;
    if (fields.size() % 2 != 0 || fields.size() > 60) throw CommandFailure{"BAD", "ID takes at most 30 field-value pairs"};
    std::string client;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (!fields[i].isString()) throw CommandFailure{"BAD", "ID field names are strings"};
        if (fields[i + 1].isString()) client += fields[i].text.substr(0, 30) + "=" + fields[i + 1].text.substr(0, 100) + " ";
    }
    if (!client.empty()) log_.information("%s identifies as %s", peer(), client);
    untagged("ID (\"name\" \"Plexus\" \"vendor\" \"Plexus\" \"support-url\" \"https://" + settings_.hostname + "/\")");
    ok(command);
}

// RFC 5161; RFC 7162 §3.2.3 for QRESYNC (which implies CONDSTORE).
void ImapSession::handleEnable(const Command& command)
{
    if (command.args.empty()) throw CommandFailure{"BAD", "ENABLE needs capability names"};
    std::string enabled;
    for (const auto& arg : command.args) {
        if (!arg.isAtom()) throw CommandFailure{"BAD", "ENABLE takes capability names"};
        const std::string name = Poco::toUpper(arg.text);
        if (name == "CONDSTORE" && !condstore_) {
            condstore_ = true;
            enabled += " CONDSTORE";
        } else if (name == "QRESYNC" && !qresync_) {
            qresync_ = true;
            if (!condstore_) enabled += " CONDSTORE";
            condstore_ = true;
            enabled += " QRESYNC";
        }
    }
    untagged("ENABLED" + enabled);
    ok(command);
}

void ImapSession::startTls()
{
    connection_.startTls(services_.tls.withClientCertificates());
    if (const auto certificate = connection_.peerCertificate())
        certificateNames_ = net::identitiesOf(certificate->certificate());
}

// RFC 3501 §6.2.1
void ImapSession::handleStartTls(const Command& command)
{
    if (!command.args.empty()) throw CommandFailure{"BAD", "STARTTLS takes no arguments"};
    if (connection_.isTls()) throw CommandFailure{"BAD", "TLS is already active"};
    ok(command, "Begin TLS negotiation now");
    try {
        startTls();
    } catch (const std::exception& e) {
        log_.information("STARTTLS with %s failed: %s", peer(), std::string(e.what()));
        state_ = State::Logout;
        return;
    }
    if (connection_.hadPlaintextAfterStartTls())
        log_.warning("%s sent plaintext after STARTTLS; it was discarded", peer());
}

std::optional<std::string> ImapSession::readSaslResponse(const Command& command)
{
    const auto line = reader_.readLine();
    if (!line) {
        state_ = State::Logout;
        return std::nullopt;
    }
    if (*line == "*") {
        bad(command, "Authentication cancelled");
        return std::nullopt;
    }
    auto decoded = accounts::decodeBase64(*line);
    if (!decoded) bad(command, "Cannot decode the response (base64)");
    return decoded;
}

// RFC 3501 §6.2.2, SASL-IR (RFC 4959)
void ImapSession::handleAuthenticate(const Command& command)
{
    if (command.args.empty() || command.args.size() > 2 || !command.args[0].isAtom())
        throw CommandFailure{"BAD", "AUTHENTICATE mechanism [initial-response]"};
    if (!connection_.isTls()) throw CommandFailure{"NO", "[PRIVACYREQUIRED] Authentication needs TLS: STARTTLS first"};
    const std::string mechanism = Poco::toUpper(command.args[0].text);
    std::optional<std::string> initial;
    if (command.args.size() == 2) {
        const auto& ir = command.args[1];
        if (!ir.isAtom()) throw CommandFailure{"BAD", "The initial response is base64 or ="};
        if (ir.text == "=") initial = std::string();
        else if (!(initial = accounts::decodeBase64(ir.text))) throw CommandFailure{"BAD", "Cannot decode the initial response"};
    }
    const auto result = accounts::runSaslMechanism(
        services_.authenticator, mechanism, std::move(initial), certificateNames_, peer(),
        [&](const std::string& challenge) {
            connection_.write("+ " + accounts::encodeBase64(challenge) + "\r\n");
            return readSaslResponse(command);
        });
    if (result.status == accounts::SaslResult::Status::Unsupported)
        throw CommandFailure{"NO", "[CANNOT] Unsupported authentication mechanism " + mechanism.substr(0, 32)};
    if (result.status == accounts::SaslResult::Status::Done && state_ != State::Logout)
        completeLogin(command, result.outcome, mechanism);
}

// RFC 3501 §6.2.3: refused in plaintext (LOGINDISABLED).
void ImapSession::handleLogin(const Command& command)
{
    if (command.args.size() != 2 || !command.args[0].isAstring() || !command.args[1].isAstring())
        throw CommandFailure{"BAD", "LOGIN user password"};
    if (!connection_.isTls()) throw CommandFailure{"NO", "[PRIVACYREQUIRED] LOGIN needs TLS: STARTTLS first"};
    if (!services_.authenticator.passwordsAllowed())
        throw CommandFailure{"NO", "[CANNOT] Passwords are disabled here; use a token or a certificate"};
    completeLogin(command, services_.authenticator.withPassword(command.args[0].text, command.args[1].text, peer()), "LOGIN");
}

void ImapSession::completeLogin(const Command& command, const accounts::AuthOutcome& outcome, const std::string& mechanism)
{
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("mechanism", mechanism);
    detail.set("service", serviceName(service_));
    if (outcome.ok()) {
        const plugins::SessionInfo session{serviceName(service_), peer(), "", connection_.isTls(),
                                           outcome.account->address, ""};
        if (const auto verdict = services_.plugins.onAuth(session, mechanism); !verdict.proceeds()) {
            detail.set("reason", "refused by plugin " + verdict.plugin);
            recordEvent("auth.login", outcome.account->address, "failure", events::detailJson(detail));
            throw CommandFailure{"NO", std::string(verdict.action == plugins::Verdict::Action::Reject
                                                       ? "[AUTHENTICATIONFAILED] "
                                                       : "[UNAVAILABLE] ") +
                                           verdict.text};
        }
        namespace_.emplace(*outcome.account);
        state_ = State::Authenticated;
        connection_.setIdleTimeout(Poco::Timespan(settings_.limits.idleTimeout.count(), 0));
        recordEvent("auth.login", outcome.account->address, "success", events::detailJson(detail));
        log_.information("%s logged in as %s with %s", peer(), outcome.account->address, mechanism);
        ok(command, "[CAPABILITY " + capabilities() + "] Logged in");
        return;
    }
    metrics::Registry::instance()
        .counter("plexus_auth_failures_total", "Failed authentications", "mechanism=\"" + mechanism + "\"")
        .add();
    detail.set("reason", outcome.failure);
    recordEvent("auth.login", "", "failure", events::detailJson(detail));
    log_.notice("authentication failure from %s with %s: %s", peer(), mechanism, outcome.failure);
    if (outcome.throttled) throw CommandFailure{"NO", "[UNAVAILABLE] Too many authentication failures; try again later"};
    throw CommandFailure{"NO", "[AUTHENTICATIONFAILED] Authentication failed"};
}

std::string ImapSession::mailboxArg(const Args& args, std::size_t index) const
{
    if (index >= args.size() || !args[index].isAstring()) throw CommandFailure{"BAD", "Mailbox name expected"};
    auto name = decodeMailboxName(args[index].text);
    if (!name) throw CommandFailure{"BAD", "Mailbox name is not valid modified UTF-7 (RFC 3501 5.1.3)"};
    return MailboxNamespace::canonical(*name);
}

std::optional<VisibleFolder> ImapSession::resolve(const std::string& name)
{
    auto db = services_.reads.acquire();
    return namespace_->resolve(*db, name);
}

}  // namespace plexus::imap
