#include "relay/SmtpRelayClient.h"

#include "net/Connection.h"
#include "relay/PeerCheck.h"
#include "relay/SmtpProtocol.h"
#include "trust/DistinguishedName.h"

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <vector>

namespace plexus::relay {

namespace {

using queue::AttemptResult;
using queue::OutboundMessage;
using queue::Outcome;

constexpr std::size_t kReplyLineLimit = 4096;
constexpr std::size_t kReplyLinesLimit = 100;  // a peer may not keep us reading one reply forever
constexpr std::size_t kDataChunk = 64 * 1024;
constexpr std::size_t kQuotedLineLimit = 200;
constexpr std::chrono::seconds kQuitTimeout{10};

// This host cannot take the message now: the next one may (RFC 5321 5.1).
// Its text names the host and says what went wrong.
class HostFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The message could not be read while it was being sent.
class ContentFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string seconds(std::chrono::seconds duration) { return std::to_string(duration.count()) + " s"; }

Poco::Timespan timespan(std::chrono::seconds duration) { return Poco::Timespan(duration.count(), 0); }

std::string quoted(std::string_view line)
{
    return "\"" + std::string(line.substr(0, kQuotedLineLimit)) + (line.size() > kQuotedLineLimit ? "…\"" : "\"");
}

Poco::Net::StreamSocket connectTo(const Poco::Net::SocketAddress& address, std::chrono::seconds timeout,
                                  const std::string& label)
{
    Poco::Net::StreamSocket socket;
    try {
        socket.connect(address, timespan(timeout));
    } catch (const Poco::Net::ConnectionRefusedException&) {
        throw HostFailure(label + ": connection refused");
    } catch (const Poco::TimeoutException&) {
        throw HostFailure(label + ": no connection within " + seconds(timeout));
    } catch (const Poco::Exception& e) {
        throw HostFailure(label + ": cannot connect: " + e.displayText());
    }
    return socket;
}

// One connection to one address of a host: the part before MAIL FROM decides
// whether this host will do, the transaction after it is final.
class RelaySession {
public:
    RelaySession(const Poco::Net::StreamSocket& socket, std::string label, const ClientSettings& settings,
                 std::function<bool()> stopping)
        : connection_(socket, timespan(settings.commandTimeout), std::move(stopping)),
          label_(std::move(label)),
          settings_(settings),
          timeout_(settings.commandTimeout)
    {
    }

    // Greeting, EHLO, STARTTLS, the peer's certificate against the whitelist,
    // EHLO again (RFC 3207 4.2: nothing learnt before TLS counts). Throws HostFailure.
    void open(const Poco::Net::Context::Ptr& tls, const trust::Whitelist& whitelist, const std::string& domain);

    // MAIL, RCPT, DATA and the message: the peer's replies decide each
    // recipient's outcome. Throws ContentFailure only.
    AttemptResult transact(const OutboundMessage& message, store::BlobReader& content);

    // RFC 5321 4.1.1.10; the connection closes whatever the peer answers.
    void quit() noexcept;

private:
    SmtpReply readReply(const std::string& awaiting);
    void send(const std::string& line);
    SmtpReply command(const std::string& line, const std::string& awaiting)
    {
        send(line);
        return readReply(awaiting);
    }
    // A reply other than `expected` before the transaction: this host will not do.
    void require(const SmtpReply& reply, int expected, const std::string& what);
    void startTls(const Poco::Net::Context::Ptr& tls);
    void sendData(store::BlobReader& content);
    void setTimeout(std::chrono::seconds timeout)
    {
        timeout_ = timeout;
        connection_.setIdleTimeout(timespan(timeout));
    }

    net::Connection connection_;
    std::string label_;
    const ClientSettings& settings_;
    EhloCapabilities capabilities_;
    std::chrono::seconds timeout_;  // for each reply, and for each write
};

SmtpReply RelaySession::readReply(const std::string& awaiting)
{
    SmtpReply reply;
    for (;;) {
        std::optional<net::Line> line;
        try {
            line = connection_.readLine(kReplyLineLimit);
        } catch (const Poco::TimeoutException&) {
            if (connection_.serverStopping())
                throw HostFailure(label_ + ": interrupted while waiting for the reply to " + awaiting +
                                  ": the server is stopping");
            throw HostFailure(label_ + ": no reply to " + awaiting + " within " + seconds(timeout_));
        } catch (const Poco::Exception& e) {
            throw HostFailure(label_ + ": " + e.displayText() + " while waiting for the reply to " + awaiting);
        }
        if (!line) throw HostFailure(label_ + ": connection closed while waiting for the reply to " + awaiting);
        auto parsed = parseReplyLine(line->text);
        if (!parsed || (!reply.lines.empty() && parsed->code != reply.code))
            throw HostFailure(label_ + ": malformed reply to " + awaiting + ": " + quoted(line->text));
        reply.code = parsed->code;
        reply.lines.push_back(std::move(parsed->text));
        if (parsed->last) return reply;
        if (reply.lines.size() >= kReplyLinesLimit)
            throw HostFailure(label_ + ": reply to " + awaiting + " longer than " + std::to_string(kReplyLinesLimit) +
                              " lines");
    }
}

void RelaySession::send(const std::string& line)
{
    connection_.write(line);
    connection_.write("\r\n");
}

void RelaySession::require(const SmtpReply& reply, int expected, const std::string& what)
{
    if (reply.code == expected) return;
    quit();
    throw HostFailure(label_ + " refused " + what + ": " + reply.toString());
}

void RelaySession::open(const Poco::Net::Context::Ptr& tls, const trust::Whitelist& whitelist,
                        const std::string& domain)
{
    const auto greeting = readReply("the greeting");
    if (greeting.code != 220) {
        quit();
        throw HostFailure(label_ + " greeted with: " + greeting.toString());
    }
    const std::string ehlo = "EHLO " + settings_.hostname;
    const auto plainCapabilities = command(ehlo, "EHLO");
    require(plainCapabilities, 250, "EHLO");
    if (!EhloCapabilities(plainCapabilities).has("STARTTLS")) {
        quit();
        throw HostFailure(label_ + ": peer does not offer STARTTLS; never plaintext");
    }
    require(command("STARTTLS", "STARTTLS"), 220, "STARTTLS");
    startTls(tls);
    const auto certificate = connection_.peerCertificate();
    std::optional<trust::DistinguishedName> peer;
    if (certificate) peer = trust::DistinguishedName::fromX509(certificate->certificate());
    if (const auto refusal = operatorRefusal(whitelist, domain, peer)) {
        quit();
        throw HostFailure(label_ + ": " + *refusal);
    }
    const auto tlsCapabilities = command(ehlo, "EHLO after STARTTLS");
    require(tlsCapabilities, 250, "EHLO after STARTTLS");
    capabilities_ = EhloCapabilities(tlsCapabilities);
}

void RelaySession::startTls(const Poco::Net::Context::Ptr& tls)
{
    try {
        connection_.startTls(tls);
    } catch (const net::TlsHandshakeError& e) {
        throw HostFailure(label_ + ": TLS handshake failed: " + std::string(e.what()));
    }
    // RFC 3207 4.2: whatever came before the handshake was dropped unread.
    if (connection_.hadPlaintextAfterStartTls())
        Poco::Logger::get("relay").warning("%s sent data between STARTTLS and the handshake; it was ignored", label_);
}

void RelaySession::sendData(store::BlobReader& content)
{
    DotStuffer stuffer;
    std::vector<char> chunk(kDataChunk);
    std::string out;
    for (std::uint64_t offset = 0; offset < content.size();) {
        std::size_t got = 0;
        try {
            got = content.read(offset, chunk.data(), chunk.size());
        } catch (const store::BlobError& e) {
            throw ContentFailure(e.what());
        }
        if (got == 0) break;
        offset += got;
        out.clear();
        stuffer.feed(std::string_view(chunk.data(), got), out);
        connection_.write(out);
        try {
            connection_.flush();
        } catch (const Poco::Exception& e) {
            throw HostFailure(label_ + ": " + e.displayText() + " while sending the message");
        }
    }
    out.clear();
    stuffer.finish(out);
    connection_.write(out);
}

AttemptResult RelaySession::transact(const OutboundMessage& message, store::BlobReader& content)
{
    AttemptResult result = AttemptResult::forAll(message, Outcome::Temporary, "", label_);
    std::vector<bool> decided(message.recipients.size(), false);
    const auto decide = [&](std::size_t i, Outcome outcome, const std::string& reply) {
        result.recipients[i].outcome = outcome;
        result.recipients[i].reply = reply;
        decided[i] = true;
    };
    const auto decideRest = [&](Outcome outcome, const std::string& reply) {
        for (std::size_t i = 0; i < decided.size(); ++i)
            if (!decided[i]) decide(i, outcome, reply);
    };
    const auto outcomeOf = [](const SmtpReply& reply) {
        return reply.code >= 500 ? Outcome::Permanent : reply.positive() ? Outcome::Delivered : Outcome::Temporary;
    };

    // RFC 6531 3.4: non-ASCII addresses only to a peer that takes SMTPUTF8.
    bool utf8 = !isAscii(message.sender);
    for (const auto& recipient : message.recipients) utf8 = utf8 || !isAscii(recipient.address);
    if (utf8 && !capabilities_.has("SMTPUTF8")) {
        quit();
        decideRest(Outcome::Permanent,
                   label_ + " does not support SMTPUTF8, which the non-ASCII addresses of this message need");
        return result;
    }
    // RFC 3461 4: DSN parameters only to a peer that announces DSN; otherwise
    // the peer would refuse them, and notices stay our business.
    const bool dsn = capabilities_.has("DSN");
    result.peerTookDsn = dsn;
    std::string mail = "MAIL FROM:<" + message.sender + ">";
    if (capabilities_.has("SIZE")) mail += " SIZE=" + std::to_string(content.size());  // RFC 1870
    if (capabilities_.has("8BITMIME")) mail += " BODY=8BITMIME";  // RFC 6152: may hold 8-bit text
    if (utf8) mail += " SMTPUTF8";
    if (dsn && !message.ret.empty()) mail += " RET=" + message.ret;
    if (dsn && !message.envid.empty()) mail += " ENVID=" + message.envid;
    std::vector<std::string> rcpts;
    for (const auto& recipient : message.recipients) {
        std::string rcpt = "RCPT TO:<" + recipient.address + ">";
        if (dsn && !recipient.notify.empty()) rcpt += " NOTIFY=" + recipient.notify;
        if (dsn && !recipient.orcpt.empty()) rcpt += " ORCPT=" + recipient.orcpt;
        rcpts.push_back(std::move(rcpt));
    }

    bool dataSent = false;
    try {
        SmtpReply mailReply;
        std::vector<SmtpReply> rcptReplies;
        std::optional<SmtpReply> dataReply;
        if (capabilities_.has("PIPELINING")) {
            // RFC 2920 3.1: MAIL, the RCPTs and DATA in one go, DATA last; the replies in order after.
            send(mail);
            for (const auto& rcpt : rcpts) send(rcpt);
            send("DATA");
            mailReply = readReply("MAIL FROM");
            for (std::size_t i = 0; i < rcpts.size(); ++i) rcptReplies.push_back(readReply("RCPT TO"));
            dataReply = readReply("DATA");
        } else {
            mailReply = command(mail, "MAIL FROM");
            for (std::size_t i = 0; mailReply.positive() && i < rcpts.size(); ++i)
                rcptReplies.push_back(command(rcpts[i], "RCPT TO"));
        }
        if (!mailReply.positive()) {
            decideRest(outcomeOf(mailReply), mailReply.toString());
        } else {
            for (std::size_t i = 0; i < rcptReplies.size(); ++i)
                if (!rcptReplies[i].positive()) decide(i, outcomeOf(rcptReplies[i]), rcptReplies[i].toString());
        }
        const bool anyAccepted = std::find(decided.begin(), decided.end(), false) != decided.end();
        if (!dataReply && anyAccepted) dataReply = command("DATA", "DATA");
        if (dataReply && dataReply->code == 354 && !anyAccepted) {
            // RFC 2920 3.1: a server that says 354 without a valid recipient gets an empty message.
            send(".");
            readReply("the end of data");
        } else if (dataReply && dataReply->code != 354) {
            decideRest(outcomeOf(*dataReply) == Outcome::Delivered ? Outcome::Temporary : outcomeOf(*dataReply),
                       dataReply->toString());
        } else if (dataReply) {
            sendData(content);
            dataSent = true;
            setTimeout(settings_.dataEndTimeout);
            const auto end = readReply("the end of data");
            decideRest(outcomeOf(end), end.toString());
        }
    } catch (const HostFailure& e) {
        // RFC 5321 6.1: without a reply to the final dot the peer may still have
        // taken the message; retrying then risks a duplicate, never a loss.
        decideRest(Outcome::Temporary,
                   std::string(e.what()) + (dataSent ? " (after the message was sent: it may arrive twice)" : ""));
        return result;
    }
    quit();
    return result;
}

void RelaySession::quit() noexcept
{
    try {
        setTimeout(std::min(kQuitTimeout, settings_.commandTimeout));
        send("QUIT");
        readReply("QUIT");
    } catch (const std::exception&) {
        // the peer is gone or silent: the connection closes all the same
    }
}

// "2 delivered, 0 deferred, 1 refused", for the log.
std::string tally(const AttemptResult& result)
{
    const auto count = [&](Outcome outcome) {
        return std::to_string(std::count_if(result.recipients.begin(), result.recipients.end(),
                                            [&](const auto& r) { return r.outcome == outcome; }));
    };
    return count(Outcome::Delivered) + " delivered, " + count(Outcome::Temporary) + " deferred, " +
           count(Outcome::Permanent) + " refused";
}

// "name [address]:port", as queue::AttemptResult::remoteHost wants it.
std::string hostLabel(const RelayHost& host, const Poco::Net::IPAddress& address)
{
    return host.name + " [" + address.toString() + "]:" + std::to_string(host.port);
}

std::chrono::seconds positiveSeconds(const Poco::Util::AbstractConfiguration& config, const std::string& key,
                                     std::chrono::seconds fallback)
{
    const std::string full = "relay." + key;
    if (!config.has(full)) return fallback;
    const std::string text = Poco::trim(config.getRawString(full));
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value <= 0)
        throw RelayError("[relay] " + key + " must be a whole number of seconds above 0, not \"" + text + "\"");
    return std::chrono::seconds(value);
}

}  // namespace

ClientSettings ClientSettings::fromConfig(const Poco::Util::AbstractConfiguration& config)
{
    ClientSettings settings;
    settings.hostname = Poco::trim(config.getString("server.hostname", ""));
    if (settings.hostname.empty()) throw RelayError("missing setting server.hostname");
    settings.connectTimeout = positiveSeconds(config, "connect_timeout_seconds", settings.connectTimeout);
    settings.commandTimeout = positiveSeconds(config, "command_timeout_seconds", settings.commandTimeout);
    settings.dataEndTimeout = positiveSeconds(config, "data_timeout_seconds", settings.dataEndTimeout);
    return settings;
}

SmtpRelayClient::SmtpRelayClient(ClientSettings settings, const Router& router, const net::TlsContexts& tls,
                                 WhitelistSource whitelist, std::function<bool()> stopping)
    : settings_(std::move(settings)),
      router_(router),
      tls_(tls),
      whitelist_(std::move(whitelist)),
      stopping_(std::move(stopping))
{
}

void SmtpRelayClient::reconfigure(ClientSettings settings)
{
    std::lock_guard lock(mutex_);
    settings_ = std::move(settings);
}

ClientSettings SmtpRelayClient::currentSettings() const
{
    std::lock_guard lock(mutex_);
    return settings_;
}

AttemptResult SmtpRelayClient::deliver(const OutboundMessage& message)
{
    static Poco::Logger& log = Poco::Logger::get("relay");
    if (message.recipients.empty()) return {};
    const ClientSettings settings = currentSettings();
    const Route route = router_.route(message.domain);
    if (route.failure != Route::Failure::None) {
        log.information("%s to %s: %s", message.queueId, message.domain, route.reason);
        return AttemptResult::forAll(message,
                                     route.failure == Route::Failure::Permanent ? Outcome::Permanent : Outcome::Temporary,
                                     route.reason);
    }
    std::optional<store::BlobReader> content;
    try {
        content.emplace(message.openContent());
    } catch (const std::exception& e) {
        return AttemptResult::forAll(message, Outcome::Temporary, "cannot read the message: " + std::string(e.what()));
    }
    const auto whitelist = whitelist_();
    if (!whitelist) return AttemptResult::forAll(message, Outcome::Temporary, "no whitelist loaded");
    const auto tls = tls_.forRelay();
    std::string failures;
    const auto hostFailed = [&](const std::string& reason) {
        log.warning("%s to %s: %s", message.queueId, message.domain, reason);
        failures += (failures.empty() ? "" : "; ") + reason;
    };
    for (const auto& host : route.hosts) {
        if (host.addresses.empty()) hostFailed(host.lookupError);
        for (const auto& address : host.addresses) {
            if (stopping_())
                return AttemptResult::forAll(message, Outcome::Temporary,
                                             "interrupted: the server is stopping" +
                                                 (failures.empty() ? "" : " (" + failures + ")"));
            const std::string label = hostLabel(host, address);
            try {
                const auto socket = connectTo(Poco::Net::SocketAddress(address, host.port), settings.connectTimeout, label);
                RelaySession session(socket, label, settings, stopping_);
                session.open(tls, *whitelist, message.domain);
                auto result = session.transact(message, *content);
                log.information("%s to %s via %s (%s): %s", message.queueId, message.domain, label, route.source,
                                tally(result));
                return result;
            } catch (const HostFailure& e) {
                hostFailed(e.what());
            } catch (const Poco::Exception& e) {  // the socket failed outside a read or a write
                hostFailed(label + ": " + e.displayText());
            } catch (const ContentFailure& e) {
                // Dropped without the final dot: the peer discards the partial message.
                return AttemptResult::forAll(message, Outcome::Temporary,
                                             "cannot read the message: " + std::string(e.what()), label);
            }
        }
    }
    return AttemptResult::forAll(message, Outcome::Temporary, failures);
}

}  // namespace plexus::relay
