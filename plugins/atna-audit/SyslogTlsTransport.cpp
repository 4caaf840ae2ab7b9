#include "SyslogTlsTransport.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <cstring>
#include <linux/sockios.h>
#include <poll.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <unistd.h>

namespace plexus::atna {

namespace {

using Clock = std::chrono::steady_clock;

// How long a new TLS 1.3 connection waits for the repository's session ticket
// (sent once it has accepted our certificate) before counting as open anyway,
// for repositories that issue no tickets.
constexpr std::chrono::milliseconds kTicketWait{500};

// TLS 1.2 suites with forward secrecy and AEAD; TLS 1.3 suites are OpenSSL's.
constexpr const char* kCipherList = "ECDHE+AESGCM:ECDHE+CHACHA20";

// The first error on OpenSSL's queue of this thread, which is then emptied.
std::string opensslError()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown TLS error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

// Waits until `fd` is ready for `events`, or the deadline passes (false).
bool waitFor(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left < 0) return false;
        pollfd descriptor{fd, events, 0};
        const int ready = ::poll(&descriptor, 1, static_cast<int>(left));
        if (ready > 0) return true;
        if (ready < 0 && errno != EINTR) return false;
    }
}

}  // namespace

SyslogTlsTransport::SyslogTlsTransport(SyslogTlsSettings settings)
    : settings_(std::move(settings)), context_(SSL_CTX_new(TLS_client_method()))
{
    if (!context_) throw std::runtime_error("syslog TLS: " + opensslError());
    SSL_CTX* context = context_.get();
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);  // RFC 5425 4.2 says 1.0; ATNA profiles now want 1.2+
    SSL_CTX_set_cipher_list(context, kCipherList);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(context, settings_.caFile.c_str(), nullptr) != 1)
        throw std::runtime_error("syslog TLS: cannot load CA file " + settings_.caFile + ": " + opensslError());
    if (!settings_.certificateFile.empty()) {
        if (SSL_CTX_use_certificate_chain_file(context, settings_.certificateFile.c_str()) != 1)
            throw std::runtime_error("syslog TLS: cannot load certificate " + settings_.certificateFile + ": " +
                                     opensslError());
        if (SSL_CTX_use_PrivateKey_file(context, settings_.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(context) != 1)
            throw std::runtime_error("syslog TLS: cannot load key " + settings_.keyFile + ": " + opensslError());
    }
    if (settings_.serverName.empty()) settings_.serverName = settings_.host;
    if (settings_.origin.procId.empty()) settings_.origin.procId = std::to_string(::getpid());
}

SyslogTlsTransport::~SyslogTlsTransport()
{
    disconnect();
}

std::string SyslogTlsTransport::label() const
{
    return "syslog repository " + settings_.host + ":" + std::to_string(settings_.port);
}

void SyslogTlsTransport::fail(const std::string& what)
{
    disconnect();
    throw TransportError(label() + ": " + what);
}

template <typename Call>
int SyslogTlsTransport::drive(Call call, Clock::time_point deadline, const char* what)
{
    const int fd = socket_->impl()->sockfd();
    for (;;) {
        ERR_clear_error();
        errno = 0;
        const int result = call();
        if (result > 0) return result;
        const int error = SSL_get_error(ssl_.get(), result);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            if (!waitFor(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                fail(std::string(what) + ": no answer within " + std::to_string(settings_.timeout.count()) + " ms");
            continue;
        }
        if (error == SSL_ERROR_ZERO_RETURN) fail(std::string(what) + ": connection closed by the repository");
        if (error == SSL_ERROR_SYSCALL)
            fail(std::string(what) + ": " + (errno != 0 ? std::strerror(errno) : "connection closed by the repository"));
        const long verification = SSL_get_verify_result(ssl_.get());
        if (verification != X509_V_OK)
            fail(std::string(what) + ": the repository's certificate is refused: " +
                 X509_verify_cert_error_string(verification));
        fail(std::string(what) + ": " + opensslError());
    }
}

void SyslogTlsTransport::connect()
{
    const auto deadline = Clock::now() + settings_.timeout;
    try {
        socket_.emplace();
        socket_->connect(Poco::Net::SocketAddress(settings_.host, settings_.port),
                         Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(settings_.timeout).count()));
        socket_->setNoDelay(true);  // one record is one write: no waiting for the previous one's ACK
        socket_->setBlocking(false);
    } catch (const Poco::Exception& e) {
        fail("cannot connect: " + e.displayText());
    }
    ssl_.reset(SSL_new(context_.get()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), socket_->impl()->sockfd()) != 1) fail(opensslError());
    Poco::Net::IPAddress address;
    if (Poco::Net::IPAddress::tryParse(settings_.serverName, address)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), settings_.serverName.c_str());
    } else {
        SSL_set1_host(ssl_.get(), settings_.serverName.c_str());
        SSL_set_tlsext_host_name(ssl_.get(), settings_.serverName.c_str());
    }
    drive([this] { return SSL_connect(ssl_.get()); }, deadline, "TLS handshake");
    if (SSL_version(ssl_.get()) == TLS1_3_VERSION) awaitSessionTicket(std::min(deadline, Clock::now() + kTicketWait));
}

// In TLS 1.3 the client finishes its handshake before the server has checked
// its certificate (RFC 8446 4.4.2): a refusal arrives afterwards, as an alert.
void SyslogTlsTransport::awaitSessionTicket(Clock::time_point deadline)
{
    const int fd = socket_->impl()->sockfd();
    char discarded[256];
    while (!SSL_SESSION_has_ticket(SSL_get0_session(ssl_.get()))) {
        if (!waitFor(fd, POLLIN, deadline)) return;
        ERR_clear_error();
        errno = 0;
        const int result = SSL_read(ssl_.get(), discarded, sizeof discarded);
        if (result > 0) continue;  // a syslog receiver has nothing to say; ignored
        const int error = SSL_get_error(ssl_.get(), result);
        if (error == SSL_ERROR_WANT_READ) continue;
        if (error == SSL_ERROR_SSL) fail("the repository refused the TLS session: " + opensslError());
        fail("the repository closed the connection after the handshake (our certificate refused?)");
    }
}

bool SyslogTlsTransport::peerClosed()
{
    const int fd = socket_->impl()->sockfd();
    pollfd descriptor{fd, POLLIN, 0};
    if (::poll(&descriptor, 1, 0) <= 0) return false;
    char discarded[256];
    ERR_clear_error();
    const int result = SSL_read(ssl_.get(), discarded, sizeof discarded);
    if (result > 0) return false;
    const bool closed = SSL_get_error(ssl_.get(), result) != SSL_ERROR_WANT_READ;
    ERR_clear_error();
    return closed;
}

void SyslogTlsTransport::disconnect() noexcept
{
    ssl_.reset();  // no close_notify: the peer may be gone, and it owes us nothing
    if (socket_) {
        try {
            socket_->close();
        } catch (const Poco::Exception&) {
        }
    }
    socket_.reset();
}

void SyslogTlsTransport::send(const AuditRecord& record)
{
    const std::string frame = octetCountingFrame(formatSyslogMessage(record, settings_.origin));
    if (frame.size() > INT_MAX) throw TransportError(label() + ": record too large");
    if (ssl_ && peerClosed()) disconnect();  // a restarted repository: reopen before writing, nothing lost
    if (!ssl_) connect();
    const auto deadline = Clock::now() + settings_.timeout;
    drive([this, &frame] { return SSL_write(ssl_.get(), frame.data(), static_cast<int>(frame.size())); }, deadline,
          "write");
}

void SyslogTlsTransport::flush()
{
    if (!ssl_) return;
    const int fd = socket_->impl()->sockfd();
    const auto deadline = Clock::now() + settings_.timeout;
    for (;;) {
        int unacknowledged = 0;
        if (::ioctl(fd, SIOCOUTQ, &unacknowledged) != 0) fail(std::string("flush: ") + std::strerror(errno));
        if (peerClosed()) fail("connection closed by the repository");
        if (unacknowledged == 0) return;
        if (Clock::now() > deadline)
            fail(std::to_string(unacknowledged) + " bytes not acknowledged within " +
                 std::to_string(settings_.timeout.count()) + " ms");
        waitFor(fd, POLLIN, std::min(deadline, Clock::now() + std::chrono::milliseconds(1)));
    }
}

}  // namespace plexus::atna
