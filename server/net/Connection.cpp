#include "net/Connection.h"

#include <Poco/Delegate.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/VerificationErrorArgs.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include <memory>

namespace plexus::net {

namespace {
constexpr std::size_t readChunk = 16 * 1024;
// How often a waiting session looks whether the server is stopping.
const Poco::Timespan stopCheckInterval(0, 250'000);
const Poco::Timespan stopGrace(5, 0);

// Poco reports certificate verification errors through process-wide events;
// a handshake runs on its session's thread, so each thread keeps the first
// error of the handshake it is doing.
thread_local std::string verificationError;

// RFC 2253 order and escaping, UTF-8 kept.
std::string subjectOf(const X509* certificate)
{
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0,
                                   XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
        return "?";
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

void noteVerificationError(const void*, Poco::Net::VerificationErrorArgs& args)
{
    if (!verificationError.empty()) return;
    verificationError = args.errorMessage() + " (depth " + std::to_string(args.errorDepth()) + ": " +
                        subjectOf(args.certificate().certificate()) + ")";
}

void listenForVerificationErrors()
{
    static const bool listening = [] {
        auto& manager = Poco::Net::SSLManager::instance();
        manager.ServerVerificationError += Poco::delegate(&noteVerificationError);
        manager.ClientVerificationError += Poco::delegate(&noteVerificationError);
        return true;
    }();
    static_cast<void>(listening);
}
}  // namespace

Connection::Connection(const Poco::Net::StreamSocket& socket, Poco::Timespan idleTimeout,
                       std::function<bool()> stopping)
    : socket_(socket), idleTimeout_(idleTimeout), stopping_(std::move(stopping)),
      peer_(socket.peerAddress().host().toString())
{
    socket_.setReceiveTimeout(idleTimeout);
    socket_.setSendTimeout(idleTimeout);
    socket_.setNoDelay(true);
}

void Connection::setIdleTimeout(Poco::Timespan timeout)
{
    idleTimeout_ = timeout;
    socket_.setReceiveTimeout(timeout);
    socket_.setSendTimeout(timeout);
}

bool Connection::fill(bool interruptible)
{
    flush();  // the peer may be waiting for our answers before it sends more
    // Wait in short slices: TLS may hold decrypted bytes the socket no longer shows.
    Poco::Timespan waited;
    Poco::Timespan waitedWhileStopping;
    while (socket_.available() == 0 && !socket_.poll(stopCheckInterval, Poco::Net::Socket::SELECT_READ)) {
        if (stopping_()) {
            if (interruptible) {
                stopRequested_ = true;
                return false;
            }
            // A client stalled in the middle of a command (a literal, a SASL
            // exchange) gets a few seconds, not the whole idle timeout.
            waitedWhileStopping += stopCheckInterval;
            if (waitedWhileStopping >= stopGrace) throw Poco::TimeoutException("server stopping");
        }
        waited += stopCheckInterval;
        if (waited >= idleTimeout_) throw Poco::TimeoutException("idle timeout");
    }
    if (start_ == in_.size()) {
        in_.clear();
        start_ = 0;
    }
    const std::size_t used = in_.size();
    in_.resize(used + readChunk);
    const int n = socket_.receiveBytes(in_.data() + used, static_cast<int>(readChunk));
    in_.resize(used + static_cast<std::size_t>(n > 0 ? n : 0));
    return n > 0;
}

std::optional<Line> Connection::readLine(std::size_t maxLength, bool betweenCommands)
{
    Line line;
    for (;;) {
        const auto newline = in_.find('\n', start_);
        const std::size_t end = newline == std::string::npos ? in_.size() : newline;
        // Keep at most maxLength bytes (+1 for a CR before the LF); drop the rest of an overlong line.
        const std::size_t room = maxLength + 1 - std::min(line.text.size(), maxLength + 1);
        line.text.append(in_, start_, std::min(end - start_, room));
        if (end - start_ > room) line.tooLong = true;
        if (newline != std::string::npos) {
            start_ = newline + 1;
            break;
        }
        start_ = in_.size();
        if (!fill(betweenCommands && line.text.empty())) return std::nullopt;
    }
    if (!line.text.empty() && line.text.back() == '\r' && !line.tooLong)
        line.text.pop_back();
    else if (!line.tooLong)
        line.bareLf = true;
    if (line.text.size() > maxLength) {
        line.text.resize(maxLength);
        line.tooLong = true;
    }
    return line;
}

bool Connection::waitForInput(Poco::Timespan timeout)
{
    flush();
    // A long wait (IDLE) holds no buffers.
    if (!hasBufferedInput()) {
        std::string().swap(in_);
        start_ = 0;
    }
    std::string().swap(out_);
    return hasBufferedInput() || socket_.available() > 0 || socket_.poll(timeout, Poco::Net::Socket::SELECT_READ);
}

void Connection::flush()
{
    std::size_t sent = 0;
    while (sent < out_.size()) {
        const int n = socket_.sendBytes(out_.data() + sent, static_cast<int>(out_.size() - sent));
        if (n <= 0) throw Poco::Net::ConnectionResetException("peer closed while we were writing");
        sent += static_cast<std::size_t>(n);
    }
    out_.clear();
}

void Connection::startTls(Poco::Net::Context::Ptr context)
{
    flush();
    discardedAfterStartTls_ = hasBufferedInput();
    in_.clear();
    start_ = 0;
    listenForVerificationErrors();
    verificationError.clear();
    Poco::Net::SecureStreamSocket secure;
    try {
        secure = Poco::Net::SecureStreamSocket::attach(socket_, context);
        secure.completeHandshake();
    } catch (const Poco::Exception& e) {
        throw TlsHandshakeError(verificationError.empty() ? e.displayText()
                                                          : "certificate verify failed: " + verificationError);
    }
    socket_ = secure;
    tls_ = true;
}

std::optional<Poco::Net::X509Certificate> Connection::peerCertificate() const
{
    if (!tls_) return std::nullopt;
    Poco::Net::SecureStreamSocket secure(socket_);
    if (!secure.havePeerCertificate()) return std::nullopt;
    return secure.peerCertificate();
}

}  // namespace plexus::net
