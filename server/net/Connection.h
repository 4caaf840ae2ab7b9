// One client connection: buffered, bounded line reading for line-based
// protocols (SMTP, IMAP), exact-length reads for chunks and literals, buffered
// writes flushed before the connection waits for input (RFC 2920 pipelining),
// and the switch to TLS (STARTTLS, or at once on implicit-TLS ports).
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/Timespan.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::net {

// A TLS handshake that failed; what() says why, with the certificate
// verification error and the certificate concerned when that was the cause.
class TlsHandshakeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Line {
    std::string text;       // without the line ending; cut at the limit when tooLong
    bool bareLf = false;    // ended with LF alone (RFC 5321 2.3.8 forbids it)
    bool tooLong = false;   // longer than the limit: the rest was read and dropped
};

class Connection {
public:
    // `stopping` tells when the server shuts down: a session waiting for its next
    // command is then woken (see readLine).
    Connection(const Poco::Net::StreamSocket& socket, Poco::Timespan idleTimeout, std::function<bool()> stopping);

    // Next line, or nullopt when the peer closed the connection or, with
    // `betweenCommands`, when the server is stopping (stopRequested() tells which).
    // Throws Poco::TimeoutException when the peer stays silent too long.
    std::optional<Line> readLine(std::size_t maxLength, bool betweenCommands = false);
    bool stopRequested() const { return stopRequested_; }
    bool serverStopping() const { return stopping_(); }
    // IMAP waits longer once the user has logged in (RFC 3501 §5.4).
    void setIdleTimeout(Poco::Timespan timeout);
    // Reads exactly `size` bytes (BDAT chunks, IMAP literals) into `sink` in pieces;
    // false if the peer closed first.
    template <typename Sink>
    bool readExact(std::size_t size, Sink&& sink);

    // Flushes, then waits up to `timeout` for input (IMAP IDLE looks for
    // changes between waits); true when there is some.
    bool waitForInput(Poco::Timespan timeout);

    void write(std::string_view data) { out_.append(data); }
    void flush();

    // The TLS handshake, as server or client as the context says. Input already
    // buffered is discarded (RFC 3207 4.2: nothing sent before TLS may be acted
    // on after it). Throws TlsHandshakeError.
    void startTls(Poco::Net::Context::Ptr context);
    bool isTls() const { return tls_; }
    bool hadPlaintextAfterStartTls() const { return discardedAfterStartTls_; }
    std::optional<Poco::Net::X509Certificate> peerCertificate() const;
    std::string peerAddress() const { return peer_; }
    bool hasBufferedInput() const { return start_ < in_.size(); }
    // The socket, for a session that waits for input elsewhere (net::IdleParker).
    int descriptor() const { return static_cast<int>(socket_.impl()->sockfd()); }

private:
    // Fills the input buffer; false at end of stream (or on a stop, when interruptible).
    bool fill(bool interruptible = false);

    Poco::Net::StreamSocket socket_;
    Poco::Timespan idleTimeout_;
    std::function<bool()> stopping_;
    bool stopRequested_ = false;
    std::string peer_;
    std::string in_;
    std::size_t start_ = 0;
    std::string out_;
    bool tls_ = false;
    bool discardedAfterStartTls_ = false;
};

template <typename Sink>
bool Connection::readExact(std::size_t size, Sink&& sink)
{
    while (size > 0) {
        if (!hasBufferedInput() && !fill()) return false;
        const std::size_t n = std::min(size, in_.size() - start_);
        sink(std::string_view(in_).substr(start_, n));
        start_ += n;
        size -= n;
    }
    return true;
}

}  // namespace plexus::net
