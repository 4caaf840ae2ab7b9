#include "trust/Fetch.h"

#include "trust/AtomicFile.h"
#include "trust/DistinguishedName.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <chrono>
#include <istream>

namespace plexus::trust {

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kIoTimeout = std::chrono::seconds(20);
// A server trickling bytes under the I/O timeout still has to finish by then.
constexpr auto kDownloadDeadline = std::chrono::seconds(120);
constexpr const char* kCipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!SHA1";

Poco::Timespan timespan(std::chrono::seconds seconds) { return Poco::Timespan(seconds.count(), 0); }

Poco::URI parseHttpsUrl(const std::string& location)
{
    Poco::URI uri;
    try {
        uri = Poco::URI(location);
    } catch (const Poco::Exception& e) {
        throw FetchError(displayLocation(location) + ": not a URL: " + e.displayText());
    }
    if (uri.getScheme() != "https")
        throw FetchError(displayLocation(location) + ": only https:// URLs are accepted");
    if (uri.getHost().empty()) throw FetchError(displayLocation(location) + ": the URL has no host");
    return uri;
}

// Why OpenSSL rejected the server's certificate, for the error message
// (downloads run on the calling thread, handshake included).
thread_local std::string certificateProblem;

int recordCertificateProblem(int ok, X509_STORE_CTX* store)
{
    if (ok == 0 && certificateProblem.empty()) {
        certificateProblem = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
        if (const X509* certificate = X509_STORE_CTX_get_current_cert(store))
            certificateProblem += " (" + DistinguishedName::fromX509(certificate).toString() + ")";
    }
    return ok;
}

Poco::Net::Context::Ptr clientContext(const std::string& caFile, const std::string& host)
{
    Poco::Net::Context::Params params;
    params.caLocation = caFile;
    params.loadDefaultCAs = caFile.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.cipherList = kCipherList;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // OpenSSL checks the name during the handshake (RFC 6125, IP literals
    // against iPAddress names); Poco's own check would resolve the certificate's names.
    context->enableExtendedCertificateVerification(false);
    X509_VERIFY_PARAM* verify = SSL_CTX_get0_param(context->sslContext());
    Poco::Net::IPAddress address;
    const int named = Poco::Net::IPAddress::tryParse(host, address)
                          ? X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str())
                          : X509_VERIFY_PARAM_set1_host(verify, host.c_str(), host.size());
    if (named != 1) throw FetchError("cannot set the expected server name " + host);
    SSL_CTX_set_verify(context->sslContext(), SSL_VERIFY_PEER, recordCertificateProblem);
    return context;
}

std::string download(const std::string& location, const std::string& caFile, std::size_t maxBytes)
{
    const Poco::URI uri = parseHttpsUrl(location);
    const std::string shown = displayLocation(location);
    const auto deadline = std::chrono::steady_clock::now() + kDownloadDeadline;
    certificateProblem.clear();
    try {
        Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), clientContext(caFile, uri.getHost()));
        session.setTimeout(timespan(kConnectTimeout), timespan(kIoTimeout), timespan(kIoTimeout));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathEtc(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("User-Agent", "Plexus");
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session.receiveResponse(response);
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK)
            throw FetchError(shown + ": HTTP " + std::to_string(response.getStatus()) + " " + response.getReason());
        const auto announced = response.hasContentLength() ? response.getContentLength64() : -1;
        if (announced > static_cast<Poco::Int64>(maxBytes))
            throw FetchError(shown + ": " + std::to_string(announced) + " bytes, more than the limit of " +
                                 std::to_string(maxBytes));
        std::string document;
        std::array<char, 64 * 1024> buffer{};
        while (body.read(buffer.data(), buffer.size()) || body.gcount() > 0) {
            document.append(buffer.data(), static_cast<std::size_t>(body.gcount()));
            if (document.size() > maxBytes)
                throw FetchError(shown + ": more than the limit of " + std::to_string(maxBytes) + " bytes");
            if (std::chrono::steady_clock::now() > deadline)
                throw FetchError(shown + ": download not finished after " +
                                     std::to_string(kDownloadDeadline.count()) + " s");
        }
        if (body.bad())
            throw FetchError(shown + ": the connection failed or timed out after " +
                                 std::to_string(document.size()) + " bytes");
        if (announced >= 0 && document.size() != static_cast<std::size_t>(announced))
            throw FetchError(shown + ": the download was cut short (" + std::to_string(document.size()) + " of " +
                                 std::to_string(announced) + " bytes)");
        return document;
    } catch (const Poco::Exception& e) {
        throw FetchError(shown + ": " + e.displayText() +
                             (certificateProblem.empty() ? "" : ": " + certificateProblem));
    }
}

}  // namespace

bool isUrl(std::string_view location) { return location.find("://") != std::string_view::npos; }

void checkHttpsUrl(const std::string& location) { parseHttpsUrl(location); }

std::string displayLocation(const std::string& location)
{
    if (!isUrl(location)) return location;
    try {
        const Poco::URI uri(location);
        Poco::URI shown;
        shown.setScheme(uri.getScheme());
        shown.setHost(uri.getHost());
        shown.setPort(uri.getPort());
        shown.setPath(uri.getPath());
        return shown.toString();
    } catch (const Poco::Exception&) {
        return "(a URL that does not parse)";
    }
}

std::string fetchDocument(const std::string& location, const std::string& caFile, std::size_t maxBytes)
{
    if (isUrl(location)) return download(location, caFile, maxBytes);
    try {
        return readFile(location, maxBytes);
    } catch (const FileError& e) {
        throw FetchError(e.what());
    }
}

}  // namespace plexus::trust
