// One SMTP session: a handler per command, named after it (RFC 5321 4.1),
// replies with enhanced status codes (RFC 2034, RFC 3463).
#include "smtp/SmtpServer.h"

#include "accounts/Sasl.h"
#include "accounts/SaslServer.h"
#include "directory/DirectoryQueries.h"
#include "events/EventLog.h"
#include "events/SessionEnd.h"
#include "metrics/Metrics.h"
#include "net/Connection.h"
#include "intake/MessageDelivery.h"
#include "intake/MessageReceiver.h"
#include "smtp/SmtpCommand.h"
#include "trust/DistinguishedName.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>


#include <algorithm>
#include <sstream>

namespace plexus::smtp {

namespace {

using accounts::Account;
using Clock = std::chrono::steady_clock;
using intake::MessageProblem;
using intake::MessageReceiver;

std::string serviceName(SmtpService service)
{
    switch (service) {
    case SmtpService::Mx: return "mx";
    case SmtpService::Submission: return "submission";
    case SmtpService::Submissions: return "submissions";
    }
    return "smtp";
}

metrics::Counter& refusedCounter(const std::string& reason)
{
    return metrics::Registry::instance().counter("plexus_smtp_messages_refused_total",
                                                 "Messages or recipients refused, by reason",
                                                 "reason=\"" + reason + "\"");
}

struct Transaction {
    bool active = false;
    bool smtputf8 = false;
    intake::DeliveryEnvelope envelope;
    std::vector<queue::OutboundRecipient> successNotices;  // local recipients with NOTIFY=SUCCESS
    std::optional<MessageReceiver> bdat;  // a BDAT transfer in progress
    std::size_t recipientCount() const { return envelope.recipientCount(); }
    // As plugins see it: the recipients accepted so far.
    plugins::Envelope pluginEnvelope() const
    {
        plugins::Envelope given{envelope.sender, {}};
        for (const auto& recipient : envelope.local) given.recipients.push_back(recipient.address);
        for (const auto& recipient : envelope.remote) given.recipients.push_back(recipient.address);
        return given;
    }
};

class SmtpSession {
public:
    SmtpSession(Poco::Net::StreamSocket& socket, SmtpService service, const SmtpSettings& settings,
                SmtpServices& services, const std::function<bool()>& stopping)
        : connection_(socket, Poco::Timespan(settings.limits.idleTimeout.count(), 0), stopping),
          service_(service),
          settings_(settings),
          services_(services),
          log_(Poco::Logger::get("smtp." + serviceName(service))),
          started_(Clock::now())
    {
    }

    void run();

private:
    // Commands until QUIT, the end of the connection, a timeout or the server stopping.
    void serveCommands();
    // Command handlers, one per verb.
    void handleEhlo(const std::string& argument, bool extended);
    void handleStartTls(const std::string& argument);
    void handleAuth(const std::string& argument);
    void handleMail(const std::string& argument);
    void handleRcpt(const std::string& argument);
    void handleData(const std::string& argument);
    void handleBdat(const std::string& argument);
    void handleRset(const std::string& argument);
    void handleVrfy(const std::string& argument);
    void handleNoop(const std::string& argument);
    void handleHelp(const std::string& argument);
    void handleQuit(const std::string& argument);

    void reply(const std::string& line) { connection_.write(line + "\r\n"); }
    void replyMultiline(int code, const std::vector<std::string>& lines);
    // A refused command: counts towards the error limit.
    void refuse(const std::string& line, const std::string& metricReason = {});
    bool tlsRequiredFirst();
    void startTls();

    // SASL (RFC 4954): a continuation exchange.
    std::optional<std::string> readSaslResponse();
    void completeAuth(const accounts::AuthOutcome& outcome, const std::string& mechanism);

    bool checkMxSender(const std::string& sender);
    // The outbound rate limit of the authenticated sender; false when reached (the reply is sent).
    bool withinSenderRate(const std::string& recipient);
    bool listedInDirectory(const std::string& recipient);
    MessageReceiver newReceiver() const;
    void receiveData();
    void deliver(MessageReceiver& receiver);
    void reportDelivered(const MessageReceiver::Received& received, const std::string& queueId);
    void refuseMessage(const MessageReceiver& receiver);
    std::string receivedHeader() const;
    void resetTransaction() { transaction_ = Transaction{}; }
    void recordEvent(events::Event event);
    // auth.logout, with ending_, at the end of an authenticated session.
    void recordLogout();
    plugins::SessionInfo sessionInfo() const;
    // The plugins' RCPT TO hooks; false when they refused (the reply is sent).
    bool acceptedByPlugins(const std::string& recipient);

    net::Connection connection_;
    SmtpService service_;
    const SmtpSettings& settings_;
    SmtpServices& services_;
    Poco::Logger& log_;
    Clock::time_point started_;
    std::string helo_;
    bool extended_ = false;
    std::optional<Account> identity_;
    std::optional<trust::DistinguishedName> peerDn_;
    std::vector<std::string> peerNames_;
    Transaction transaction_;
    unsigned errors_ = 0;
    bool quit_ = false;
    events::SessionEnd ending_ = events::SessionEnd::Closed;
};

void SmtpSession::run()
{
    if (service_ == SmtpService::Submissions) {
        try {
            startTls();
        } catch (const std::exception& e) {
            log_.information("TLS handshake with %s failed: %s", connection_.peerAddress(), std::string(e.what()));
            return;
        }
    }
    // RFC 5321 3.1: a server may refuse a connection with 554 instead of 220.
    if (const auto verdict = services_.plugins.onConnect(sessionInfo()); !verdict.proceeds()) {
        const bool temporary = verdict.action == plugins::Verdict::Action::Defer;
        reply(std::string(temporary ? "421 " : "554 ") + verdict.enhancedCode + " " + verdict.text);
        connection_.flush();
        return;
    }
    reply("220 " + settings_.hostname + " ESMTP Plexus MSSanté");
    try {
        serveCommands();
    } catch (const std::exception& e) {
        ending_ = events::sessionEndAfter(e, connection_.serverStopping());
        recordLogout();
        throw;  // the listener logs it
    }
    recordLogout();
    try {
        connection_.flush();
    } catch (const Poco::Exception&) {
        // the peer is gone; nothing left to tell it
    }
}

void SmtpSession::serveCommands()
{
    while (!quit_) {
        if (Clock::now() - started_ > settings_.limits.sessionTime) {
            reply("421 4.4.2 " + settings_.hostname + " Session time limit exceeded, closing");
            ending_ = events::SessionEnd::Timeout;
            break;
        }
        std::optional<net::Line> line;
        try {
            line = connection_.readLine(settings_.limits.commandLine, true);
        } catch (const Poco::TimeoutException&) {
            reply("421 4.4.2 " + settings_.hostname + " Idle timeout, closing");
            ending_ = events::SessionEnd::Timeout;
            break;
        }
        if (!line) {
            if (connection_.stopRequested()) {
                reply("421 4.3.2 " + settings_.hostname + " Service shutting down");
                ending_ = events::SessionEnd::Shutdown;
            }
            break;
        }
        if (line->tooLong) {
            refuse("500 5.5.2 Line too long");
        } else if (line->bareLf) {
            refuse("500 5.5.2 Bare LF not allowed; lines end with CRLF (RFC 5321 2.3.8)");
        } else {
            const auto command = splitCommand(line->text);
            const std::string& a = command.argument;
            const std::string& verb = command.verb;
            if (transaction_.bdat && verb != "BDAT" && verb != "RSET" && verb != "QUIT" && verb != "NOOP")
                refuse("503 5.5.1 Only BDAT, RSET, NOOP or QUIT during a BDAT transfer");
            else if (verb == "EHLO") handleEhlo(a, true);
            else if (verb == "HELO") handleEhlo(a, false);
            else if (verb == "STARTTLS") handleStartTls(a);
            else if (verb == "AUTH") handleAuth(a);
            else if (verb == "MAIL") handleMail(a);
            else if (verb == "RCPT") handleRcpt(a);
            else if (verb == "DATA") handleData(a);
            else if (verb == "BDAT") handleBdat(a);
            else if (verb == "RSET") handleRset(a);
            else if (verb == "VRFY") handleVrfy(a);
            else if (verb == "NOOP") handleNoop(a);
            else if (verb == "HELP") handleHelp(a);
            else if (verb == "QUIT") handleQuit(a);
            else refuse("500 5.5.1 Command unrecognized");
        }
        if (errors_ >= settings_.limits.errors) {
            reply("421 4.7.0 " + settings_.hostname + " Too many errors, closing");
            break;
        }
    }
}

void SmtpSession::replyMultiline(int code, const std::vector<std::string>& lines)
{
    for (std::size_t i = 0; i < lines.size(); ++i)
        reply(std::to_string(code) + (i + 1 < lines.size() ? "-" : " ") + lines[i]);
}

void SmtpSession::refuse(const std::string& line, const std::string& metricReason)
{
    ++errors_;
    if (!metricReason.empty()) refusedCounter(metricReason).add();
    reply(line);
}

void SmtpSession::recordEvent(events::Event event)
{
    event.client = connection_.peerAddress();
    services_.commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
}

// Once per session: run() calls it when the session ends, whichever way.
void SmtpSession::recordLogout()
{
    if (identity_) recordEvent(events::logoutEvent(identity_->address, "", serviceName(service_), ending_));
}

plugins::SessionInfo SmtpSession::sessionInfo() const
{
    return {serviceName(service_), connection_.peerAddress(), helo_, connection_.isTls(),
            identity_ ? identity_->address : "", peerDn_ ? peerDn_->toString() : ""};
}

bool SmtpSession::acceptedByPlugins(const std::string& recipient)
{
    const auto verdict = services_.plugins.onRcptTo(sessionInfo(), transaction_.pluginEnvelope(), recipient);
    if (verdict.proceeds()) return true;
    refuse(verdict.smtpReply(), verdict.pluginFailed ? "plugin_failure" : "plugin");
    return false;
}

// RFC 5321 4.1.1.1; RFC 1869 for the extension list.
void SmtpSession::handleEhlo(const std::string& argument, bool extended)
{
    if (argument.empty() || argument.find(' ') != std::string::npos) {
        refuse(std::string("501 5.5.4 Syntax: ") + (extended ? "EHLO" : "HELO") + " hostname");
        return;
    }
    helo_ = argument;
    extended_ = extended;
    resetTransaction();
    if (!extended) {
        reply("250 " + settings_.hostname);
        return;
    }
    std::vector<std::string> lines{settings_.hostname + " greets " + argument,
                                   "PIPELINING",
                                   "SIZE " + std::to_string(settings_.limits.messageSize),
                                   "ENHANCEDSTATUSCODES",
                                   "8BITMIME",
                                   "DSN",
                                   "SMTPUTF8",
                                   "CHUNKING"};
    if (!connection_.isTls()) lines.push_back("STARTTLS");
    if (service_ != SmtpService::Mx && connection_.isTls() && !identity_) {
        std::string mechanisms = "AUTH";
        for (const auto& mechanism : accounts::saslMechanisms(services_.authenticator, !peerNames_.empty()))
            mechanisms += " " + mechanism;
        if (mechanisms != "AUTH") lines.push_back(mechanisms);
    }
    lines.push_back("HELP");
    replyMultiline(250, lines);
}

void SmtpSession::startTls()
{
    // Certificates are requested everywhere: peers on MX, APP accounts (EXTERNAL) on submission.
    connection_.startTls(services_.tls.withClientCertificates());
    if (const auto certificate = connection_.peerCertificate()) {
        peerDn_ = trust::DistinguishedName::fromX509(certificate->certificate());
        peerNames_ = net::identitiesOf(certificate->certificate());
    }
}

// RFC 3207
void SmtpSession::handleStartTls(const std::string& argument)
{
    if (!argument.empty()) {
        refuse("501 5.5.4 Syntax: STARTTLS");
        return;
    }
    if (connection_.isTls()) {
        refuse("503 5.5.1 TLS already active");
        return;
    }
    reply("220 2.0.0 Ready to start TLS");
    try {
        startTls();
    } catch (const std::exception& e) {
        log_.information("STARTTLS with %s failed: %s", connection_.peerAddress(), std::string(e.what()));
        quit_ = true;
        return;
    }
    // RFC 3207 4.2: forget everything learnt before TLS.
    helo_.clear();
    extended_ = false;
    resetTransaction();
    if (connection_.hadPlaintextAfterStartTls())
        log_.warning("%s sent plaintext after STARTTLS; it was discarded", connection_.peerAddress());
}

bool SmtpSession::tlsRequiredFirst()
{
    if (connection_.isTls()) return false;
    refuse("530 5.7.0 Must issue a STARTTLS command first", "tls_required");
    return true;
}

std::optional<std::string> SmtpSession::readSaslResponse()
{
    const auto line = connection_.readLine(settings_.limits.authLine);
    if (!line) {
        quit_ = true;
        return std::nullopt;
    }
    if (line->tooLong) {
        refuse("500 5.5.6 Authentication exchange line is too long");
        return std::nullopt;
    }
    if (line->text == "*") {
        refuse("501 5.0.0 Authentication cancelled");
        return std::nullopt;
    }
    auto decoded = accounts::decodeBase64(line->text);
    if (!decoded) refuse("501 5.5.2 Cannot decode response");
    return decoded;
}

// RFC 4954
void SmtpSession::handleAuth(const std::string& argument)
{
    if (service_ == SmtpService::Mx) {
        refuse("503 5.5.1 Authentication is not available on the MX service");
        return;
    }
    if (tlsRequiredFirst()) return;
    if (identity_) {
        refuse("503 5.5.1 Already authenticated");
        return;
    }
    if (transaction_.active) {
        refuse("503 5.5.1 AUTH not allowed during a mail transaction");
        return;
    }
    const auto space = argument.find(' ');
    const std::string mechanism = Poco::toUpper(argument.substr(0, space));
    if (mechanism.empty()) {
        refuse("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
        return;
    }
    std::optional<std::string> initial;
    if (space != std::string::npos) {
        const std::string encoded = argument.substr(space + 1);
        if (encoded == "=") {
            initial = std::string();
        } else {
            initial = accounts::decodeBase64(encoded);
            if (!initial) {
                refuse("501 5.5.2 Cannot decode initial response");
                return;
            }
        }
    }
    const auto result = accounts::runSaslMechanism(
        services_.authenticator, mechanism, std::move(initial), peerNames_, connection_.peerAddress(),
        [this](const std::string& challenge) {
            reply("334 " + accounts::encodeBase64(challenge));
            return readSaslResponse();
        });
    if (result.status == accounts::SaslResult::Status::Unsupported)
        refuse("504 5.5.4 Unrecognized authentication type");
    else if (result.status == accounts::SaslResult::Status::Done && !quit_)
        completeAuth(result.outcome, mechanism);
}

void SmtpSession::completeAuth(const accounts::AuthOutcome& outcome, const std::string& mechanism)
{
    Poco::JSON::Object detail;
    detail.set("mechanism", mechanism);
    detail.set("service", serviceName(service_));
    if (outcome.ok()) {
        auto session = sessionInfo();
        session.identity = outcome.account->address;
        if (const auto verdict = services_.plugins.onAuth(session, mechanism); !verdict.proceeds()) {
            detail.set("reason", "refused by plugin " + verdict.plugin);
            recordEvent({"auth.login", outcome.account->address, "", outcome.account->address, "failure",
                         events::detailJson(detail)});
            refuse(verdict.smtpReply(), "plugin");
            return;
        }
        identity_ = outcome.account;
        log_.information("%s authenticated as %s with %s", connection_.peerAddress(), identity_->address, mechanism);
        recordEvent({"auth.login", identity_->address, "", identity_->address, "success", events::detailJson(detail)});
        reply("235 2.7.0 Authentication successful");
        return;
    }
    metrics::Registry::instance()
        .counter("plexus_auth_failures_total", "Failed authentications", "mechanism=\"" + mechanism + "\"")
        .add();
    detail.set("reason", outcome.failure);
    log_.notice("authentication failure from %s with %s: %s", connection_.peerAddress(), mechanism, outcome.failure);
    recordEvent({"auth.login", "", "", "", "failure", events::detailJson(detail)});
    if (outcome.throttled)
        refuse("454 4.7.0 Too many authentication failures; try again later");
    else
        refuse("535 5.7.8 Authentication credentials invalid");
}

// MX: the sending operator must be on the trust-space whitelist for the sender's
// domain, proven by its certificate's subject DN.
bool SmtpSession::checkMxSender(const std::string& sender)
{
    if (!peerDn_) {
        // Temporary, as Postfix's smtpd_tls_req_ccert: a peer's missing certificate is a
        // configuration to fix, and its mail should wait for it rather than bounce.
        log_.notice("%s (EHLO %s) sent MAIL FROM:<%s> without a client certificate; refused", connection_.peerAddress(),
                    helo_, sender);
        refuse("451 4.7.0 A client certificate of the MSSanté trust space is required", "no_client_certificate");
        recordEvent({"message.refused", sender, "", helo_, "no client certificate", "{}"});
        return false;
    }
    const auto whitelist = services_.whitelist();
    const std::string domain = accounts::domainOf(sender);
    if (sender.empty() ? !whitelist->knowsOperator(*peerDn_) : !whitelist->containsDomain(domain)) {
        refuse("550 5.7.1 Domain " + domain + " is not in the MSSanté trust space", "domain_not_whitelisted");
        recordEvent({"message.refused", sender, "", domain, "domain not whitelisted", "{}"});
        return false;
    }
    if (!sender.empty() && !whitelist->allows(domain, *peerDn_)) {
        refuse("550 5.7.1 Certificate " + peerDn_->toString() + " is not registered for domain " + domain,
               "certificate_dn_mismatch");
        recordEvent({"message.refused", sender, "", domain, "certificate DN not listed: " + peerDn_->toString(), "{}"});
        return false;
    }
    return true;
}

// RFC 5321 4.1.1.2; parameters of RFC 1870, 6152, 3461, 6531, 4954.
void SmtpSession::handleMail(const std::string& argument)
{
    if (helo_.empty()) {
        refuse("503 5.5.1 Send EHLO first");
        return;
    }
    if (transaction_.active) {
        refuse("503 5.5.1 Sender already given");
        return;
    }
    if (tlsRequiredFirst()) return;
    if (service_ != SmtpService::Mx && !identity_) {
        refuse("530 5.7.0 Authentication required", "auth_required");
        return;
    }
    ParseError error;
    const auto path = parsePath(argument, "FROM", error);
    if (!path) {
        refuse(error.reply);
        return;
    }
    Transaction next;
    for (const auto& [keyword, value] : path->params) {
        if (keyword == "SIZE") {
            if (value.empty() || value.size() > 20 || !std::all_of(value.begin(), value.end(), ::isdigit)) {
                refuse("501 5.5.4 Malformed SIZE parameter");
                return;
            }
            if (std::stoull(value) > settings_.limits.messageSize) {
                refuse("552 5.3.4 Message size exceeds fixed maximum message size", "too_big");
                return;
            }
        } else if (keyword == "BODY") {
            const std::string body = Poco::toUpper(value);
            if (body != "7BIT" && body != "8BITMIME") {
                refuse("555 5.5.4 Unsupported BODY type " + value);
                return;
            }
        } else if (keyword == "SMTPUTF8" && value.empty()) {
            next.smtputf8 = true;
        } else if (keyword == "RET") {
            const std::string ret = Poco::toUpper(value);
            if (ret != "FULL" && ret != "HDRS") {
                refuse("501 5.5.4 RET must be FULL or HDRS");
                return;
            }
            next.envelope.ret = ret;
        } else if (keyword == "ENVID") {
            if (value.empty() || value.size() > 100 || !isXtext(value)) {
                refuse("501 5.5.4 Malformed ENVID parameter");
                return;
            }
            next.envelope.envid = value;
        } else if (keyword == "AUTH") {
            // RFC 4954 5: accepted and not relied upon.
        } else {
            refuse("555 5.5.4 Unsupported parameter " + keyword);
            return;
        }
    }
    if (!next.smtputf8 && !isAscii(path->address)) {
        refuse("553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
        return;
    }
    if (service_ == SmtpService::Mx) {
        if (!checkMxSender(path->address)) return;
    } else {
        auto db = services_.reads.acquire();
        if (path->address.empty() || !accounts::AccountStore::maySendAs(*db, *identity_, path->address)) {
            refuse("553 5.7.1 Sender address <" + path->address + "> not allowed for " + identity_->address,
                   "sender_not_allowed");
            recordEvent({"message.refused", identity_->address, "", path->address, "sender not allowed", "{}"});
            return;
        }
    }
    const auto verdict = services_.plugins.onMailFrom(sessionInfo(), path->address);
    if (!verdict.proceeds()) {
        refuse(verdict.smtpReply(), "plugin");
        return;
    }
    next.active = true;
    next.envelope.sender = path->address;
    transaction_ = std::move(next);
    reply("250 2.1.0 Sender OK");
}

// RFC 5321 4.1.1.3; NOTIFY and ORCPT of RFC 3461.
void SmtpSession::handleRcpt(const std::string& argument)
{
    if (!transaction_.active) {
        refuse("503 5.5.1 Need MAIL before RCPT");
        return;
    }
    ParseError error;
    const auto path = parsePath(argument, "TO", error);
    if (!path || path->address.empty()) {
        refuse(path ? "501 5.5.4 Null recipient not allowed" : error.reply);
        return;
    }
    intake::RemoteRecipient recipient{path->address, "", ""};
    for (const auto& [keyword, value] : path->params) {
        if (keyword == "NOTIFY") {
            const std::string notify = Poco::toUpper(value);
            bool valid = !notify.empty();
            std::istringstream items(notify);
            for (std::string item; std::getline(items, item, ',');)
                valid = valid && (item == "NEVER" ? notify == "NEVER"
                                                  : item == "SUCCESS" || item == "FAILURE" || item == "DELAY");
            if (!valid) {
                refuse("501 5.5.4 Malformed NOTIFY parameter");
                return;
            }
            recipient.notify = notify;
        } else if (keyword == "ORCPT") {
            const auto semicolon = value.find(';');
            if (semicolon == std::string::npos || semicolon == 0 || !isXtext(value.substr(semicolon + 1))) {
                refuse("501 5.5.4 Malformed ORCPT parameter");
                return;
            }
            recipient.orcpt = value;
        } else {
            refuse("555 5.5.4 Unsupported parameter " + keyword);
            return;
        }
    }
    if (!transaction_.smtputf8 && !isAscii(path->address)) {
        refuse("553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
        return;
    }
    if (transaction_.recipientCount() >= settings_.limits.recipients) {
        refuse("452 4.5.3 Too many recipients", "too_many_recipients");
        return;
    }
    if (!accounts::isValidAddress(path->address) && isAscii(path->address)) {
        refuse("553 5.1.3 Bad recipient address syntax");
        return;
    }
    const std::string domain = accounts::domainOf(path->address);
    if (settings_.localDomains.count(domain)) {
        auto db = services_.reads.acquire();
        const auto account = accounts::AccountStore::find(*db, path->address);
        if (!account) {
            refuse("550 5.1.1 <" + path->address + ">: no such mailbox here", "unknown_recipient");
            return;
        }
        if (account->usedBytes >= account->quotaBytes) {
            refuse("452 4.2.2 <" + path->address + ">: mailbox full", "mailbox_full");
            return;
        }
        if (!acceptedByPlugins(account->address)) return;
        transaction_.envelope.local.push_back({account->id, account->address});
        if (recipient.notify.find("SUCCESS") != std::string::npos)
            transaction_.successNotices.push_back({account->address, recipient.notify, recipient.orcpt});
        reply("250 2.1.5 Recipient OK");
        return;
    }
    if (service_ == SmtpService::Mx) {
        // RFC 3463 X.7.1: delivery not authorized; operators relay their own users' mail.
        refuse("550 5.7.1 <" + path->address + ">: not a local mailbox; relay not allowed", "relay_denied");
        return;
    }
    if (!services_.whitelist()->containsDomain(domain)) {
        refuse("550 5.7.1 <" + path->address + ">: domain " + domain + " is not in the MSSanté trust space",
               "domain_not_whitelisted");
        recordEvent({"message.refused", identity_->address, "", path->address, "recipient domain not whitelisted", "{}"});
        return;
    }
    if (settings_.validateRemoteRecipients && !listedInDirectory(path->address)) return;
    if (!acceptedByPlugins(recipient.address) || !withinSenderRate(recipient.address)) return;
    transaction_.envelope.remote.push_back(std::move(recipient));
    reply("250 2.1.5 Recipient OK (relayed in the trust space)");
}

// [directory] validate_remote_recipients: the national directory's copy knows
// every MSSanté mailbox (liste rouge included). An empty copy (never synced nor
// imported) knows none: a temporary refusal keeps the mail with the sender
// until it is loaded, instead of bouncing everyone's mail.
bool SmtpSession::listedInDirectory(const std::string& recipient)
{
    const auto status = [&] {
        auto db = services_.directory.acquire();
        return directory::addressStatus(*db, recipient);
    }();
    if (status == directory::AddressStatus::listed) return true;
    if (status == directory::AddressStatus::notLoaded) {
        log_.warning("recipient validation is on but the national directory's copy is empty; <%s> deferred",
                     recipient);
        refuse("451 4.3.0 <" + recipient + ">: the national directory is not loaded here yet, try again later",
               "directory_not_loaded");
        return false;
    }
    refuse("550 5.1.1 <" + recipient + ">: not an MSSanté mailbox in the national directory", "unknown_recipient");
    recordEvent(
        {"message.refused", identity_->address, "", recipient, "recipient not in the national directory", "{}"});
    return false;
}

bool SmtpSession::withinSenderRate(const std::string& recipient)
{
    const auto& limits = settings_.senderRateLimits;
    const unsigned limit = identity_->type == accounts::AccountType::APP ? limits.appPerHour : limits.perHour;
    const auto decision = services_.senderRates.admit(identity_->address, limit);
    if (decision.allowed) return true;
    const auto minutes = std::chrono::ceil<std::chrono::minutes>(decision.retryAfter).count();
    log_.notice("%s reached its sending rate limit (%u remote recipients per hour); <%s> refused",
                identity_->address, limit, recipient);
    refuse("450 4.7.1 <" + recipient + ">: sending rate limit reached (" + std::to_string(limit) +
               " remote recipients per hour), try again later", "sender_rate_limit");
    Poco::JSON::Object detail;
    detail.set("limit_per_hour", limit);
    detail.set("retry_after_minutes", minutes);
    recordEvent({"message.refused", identity_->address, "", recipient, "sender rate limit", events::detailJson(detail)});
    return false;
}

// The message of this transaction, our trace field first.
MessageReceiver SmtpSession::newReceiver() const
{
    MessageReceiver receiver(services_.mailboxes, settings_.limits.messageSize, settings_.limits.headerSize);
    receiver.limitHops(settings_.limits.maxHops);
    receiver.append(receivedHeader());
    return receiver;
}

std::string SmtpSession::receivedHeader() const
{
    // RFC 5321 4.4, "with" keywords of RFC 3848.
    std::string with = transaction_.smtputf8 ? "UTF8SMTP" : "ESMTP";
    if (connection_.isTls()) with += "S";
    if (identity_) with += "A";
    std::string header = "Received: from " + helo_ + " ([" + connection_.peerAddress() + "])\r\n\tby " +
                         settings_.hostname + " (Plexus) with " + with;
    if (transaction_.recipientCount() == 1)
        header += "\r\n\tfor <" + transaction_.pluginEnvelope().recipients.front() + ">";
    header += "; " + Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::RFC1123_FORMAT) + "\r\n";
    return header;
}

void SmtpSession::refuseMessage(const MessageReceiver& receiver)
{
    switch (receiver.problem()) {
    case MessageProblem::TooBig:
        refuse("552 5.3.4 Message size exceeds fixed maximum message size", "too_big");
        break;
    case MessageProblem::HeaderTooBig:
        refuse("552 5.3.4 Message header exceeds the size limit", "header_too_big");
        break;
    case MessageProblem::LineTooLong:
        refuse("500 5.5.2 Message line longer than " + std::to_string(settings_.limits.dataLine) +
                   " octets (RFC 5322 2.1.1)", "line_too_long");
        break;
    case MessageProblem::BareLf:
        refuse("550 5.6.0 Bare LF in message data; lines end with CRLF (RFC 5321 2.3.8)", "bare_lf");
        break;
    case MessageProblem::TooManyHops: {
        const std::string hops = std::to_string(receiver.hops());
        const std::string& sender = transaction_.envelope.sender;
        log_.warning("message from <%s> via %s refused: %s Received: fields, mail loop?", sender,
                     connection_.peerAddress(), hops);
        refuse("554 5.4.6 Too many hops (" + hops + "), mail loop?", "too_many_hops");
        Poco::JSON::Object detail;
        detail.set("hops", receiver.hops());
        detail.set("max_hops", settings_.limits.maxHops);
        recordEvent({"message.refused", identity_ ? identity_->address : sender, "", sender, "too many hops",
                     events::detailJson(detail)});
        break;
    }
    case MessageProblem::None:
        break;
    }
    resetTransaction();
}

// RFC 5321 4.1.1.4
void SmtpSession::handleData(const std::string& argument)
{
    if (!argument.empty()) {
        refuse("501 5.5.4 Syntax: DATA");
        return;
    }
    if (!transaction_.active) {
        refuse("503 5.5.1 Need MAIL command");
        return;
    }
    if (transaction_.recipientCount() == 0) {
        refuse("554 5.5.1 No valid recipients");
        return;
    }
    reply("354 End data with <CR><LF>.<CR><LF>");
    receiveData();
}

void SmtpSession::receiveData()
{
    MessageReceiver receiver = newReceiver();
    for (;;) {
        const auto line = connection_.readLine(settings_.limits.dataLine);
        if (!line) {
            quit_ = true;  // the peer left mid-message: nothing was acknowledged, nothing is kept
            return;
        }
        if (line->text == "." && !line->bareLf) break;
        if (line->tooLong) receiver.reject(MessageProblem::LineTooLong);
        if (line->bareLf) receiver.reject(MessageProblem::BareLf);
        // RFC 5321 4.5.2: remove one leading dot.
        const std::string_view text = !line->text.empty() && line->text.front() == '.'
                                          ? std::string_view(line->text).substr(1)
                                          : std::string_view(line->text);
        receiver.append(text);
        receiver.append("\r\n");
    }
    if (receiver.problem() != MessageProblem::None) {
        refuseMessage(receiver);
        return;
    }
    deliver(receiver);
}

// RFC 3030
void SmtpSession::handleBdat(const std::string& argument)
{
    const auto space = argument.find(' ');
    const std::string sizeText = argument.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : Poco::toUpper(argument.substr(space + 1));
    if (sizeText.empty() || sizeText.size() > 19 || !std::all_of(sizeText.begin(), sizeText.end(), ::isdigit) ||
        (!rest.empty() && rest != "LAST")) {
        refuse("501 5.5.4 Syntax: BDAT size [LAST]");
        return;  // without a size we cannot tell chunk bytes from commands
    }
    const std::uint64_t size = std::stoull(sizeText);
    const bool last = rest == "LAST";
    // The chunk is read whatever happens, so that its bytes are never taken for commands.
    MessageReceiver* receiver = nullptr;
    std::string refusal;
    if (!transaction_.active) {
        refusal = "503 5.5.1 Need MAIL command";
    } else if (transaction_.recipientCount() == 0) {
        refusal = "554 5.5.1 No valid recipients";
    } else {
        if (!transaction_.bdat) transaction_.bdat = newReceiver();
        receiver = &*transaction_.bdat;
    }
    const bool complete = connection_.readExact(size, [&](std::string_view bytes) {
        if (receiver) receiver->append(bytes);
    });
    if (!complete) {
        quit_ = true;
        return;
    }
    if (!receiver) {
        refuse(refusal);
        return;
    }
    if (receiver->problem() != MessageProblem::None) {
        refuseMessage(*receiver);
        return;
    }
    if (!last) {
        reply("250 2.0.0 " + std::to_string(size) + " octets received");
        return;
    }
    deliver(*receiver);
}

// Runs the plugins' message hooks, makes the message durable in every local
// mailbox and the outbound queue, then acknowledges it: 250 only after the
// blob and the index are on disk.
void SmtpSession::deliver(MessageReceiver& receiver)
{
    auto received = receiver.finish();
    if (services_.plugins.hasMessageHooks()) {
        auto outcome = services_.plugins.onMessage(sessionInfo(), transaction_.pluginEnvelope(), std::move(received));
        if (outcome.verdict.action == plugins::Verdict::Action::TakeOver) {
            recordEvent({"message.taken_over", identity_ ? identity_->address : transaction_.envelope.sender, "",
                         outcome.verdict.plugin, "success", "{}"});
            reply(outcome.verdict.smtpReply());
            resetTransaction();
            return;
        }
        if (!outcome.verdict.proceeds()) {
            refuse(outcome.verdict.smtpReply(), outcome.verdict.pluginFailed ? "plugin_failure" : "plugin");
            resetTransaction();
            return;
        }
        received = std::move(outcome.message);
    }
    Poco::JSON::Object detail;
    detail.set("service", serviceName(service_));
    if (peerDn_ && service_ == SmtpService::Mx) detail.set("peer_certificate", peerDn_->toString());
    const auto& envelope = transaction_.envelope;
    intake::DeliveryServices delivery{services_.mailboxes, services_.commits, services_.changes, services_.indexer,
                                      services_.outboundQueued};
    try {
        intake::deliverMessage(delivery, received, envelope,
                               {identity_ ? identity_->address : envelope.sender, connection_.peerAddress(), detail});
    } catch (const std::exception& e) {
        log_.error("storing message from %s failed: %s", connection_.peerAddress(), std::string(e.what()));
        refuse("451 4.3.0 Temporary failure storing the message; try again later", "store_failure");
        resetTransaction();
        return;
    }
    static auto& accepted = metrics::Registry::instance().counter("plexus_smtp_messages_accepted_total",
                                                                  "Messages accepted and made durable");
    static auto& bytes =
        metrics::Registry::instance().counter("plexus_smtp_bytes_received_total", "Bytes of accepted messages");
    accepted.add();
    bytes.add(received.size);
    const std::string queueId = intake::queueIdOf(received);
    log_.information("%s accepted %s from <%s> for %z recipient(s), %Lu bytes", queueId,
                     received.structure.envelope.messageId, envelope.sender, envelope.recipientCount(), received.size);
    if (!transaction_.successNotices.empty() && !envelope.sender.empty()) reportDelivered(received, queueId);
    reply("250 2.0.0 Ok: queued as " + queueId);
    resetTransaction();
}

// RFC 3461 §4.1: the success notice asked for, now that the message is in the
// mailboxes. The message is stored whatever becomes of it: a failure is logged.
void SmtpSession::reportDelivered(const MessageReceiver::Received& received, const std::string& queueId)
{
    if (!services_.reportDelivered) return;
    const auto& envelope = transaction_.envelope;
    const std::int64_t now = Poco::Timestamp().epochTime();
    queue::OutboundMessage message;
    message.queueId = queueId;
    message.messageId = received.structure.envelope.messageId;
    message.sender = envelope.sender;
    message.envid = envelope.envid;
    message.ret = envelope.ret;
    message.recipients = transaction_.successNotices;
    message.createdAt = now;
    message.size = received.size;
    message.openContent = [&mailboxes = services_.mailboxes, path = received.blobPath] {
        return mailboxes.openBlob(path);
    };
    std::vector<queue::NoticeRecipient> delivered;
    for (const auto& recipient : message.recipients)
        delivered.push_back({recipient, queue::RecipientState::Delivered, "", "", now});
    try {
        services_.reportDelivered(message, delivered);
    } catch (const std::exception& e) {
        log_.error("%s: success notice to <%s> not made: %s", queueId, envelope.sender, std::string(e.what()));
    }
}

void SmtpSession::handleRset(const std::string& argument)
{
    if (!argument.empty()) {
        refuse("501 5.5.4 Syntax: RSET");
        return;
    }
    resetTransaction();
    reply("250 2.0.0 Ok");
}

// RFC 5321 3.5.3: no address harvesting.
void SmtpSession::handleVrfy(const std::string&) { reply("252 2.5.2 Cannot VRFY user, but will accept message"); }

void SmtpSession::handleNoop(const std::string&) { reply("250 2.0.0 Ok"); }

void SmtpSession::handleHelp(const std::string&)
{
    reply("214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET VRFY NOOP HELP QUIT");
}

void SmtpSession::handleQuit(const std::string&)
{
    reply("221 2.0.0 " + settings_.hostname + " closing connection");
    ending_ = events::SessionEnd::Logout;
    quit_ = true;
}

}  // namespace

void runSmtpSession(Poco::Net::StreamSocket& socket, SmtpService service, const SmtpSettings& settings,
                    SmtpServices& services, const std::function<bool()>& stopping)
{
    SmtpSession session(socket, service, settings, services, stopping);
    session.run();
}

}  // namespace plexus::smtp
