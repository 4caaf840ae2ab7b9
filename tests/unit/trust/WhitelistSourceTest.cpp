#include "trust/WhitelistSource.h"

#include "trust/DevPki.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace plexus::trust {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOperatorDn = "CN=mx.operateur.test,O=Operateur,C=FR";

std::string listXml(const std::vector<std::string>& domains, const std::string& ns = std::string(Whitelist::kNamespace))
{
    std::ostringstream xml;
    xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListeBlancheMSSante xmlns=\"" << ns << "\">"
        << "<DateDeGeneration>2026-01-01T00:00:00Z</DateDeGeneration><ListeDomaines>";
    for (const auto& domain : domains)
        xml << "<Domaine><Nom>" << domain << "</Nom><DNCertificatOperateur>" << kOperatorDn
            << "</DNCertificatOperateur></Domaine>";
    xml << "</ListeDomaines></ListeBlancheMSSante>\n";
    return xml.str();
}

std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const fs::path& path, const std::string& content)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

fs::path makeTemporaryFolder(const std::string& name)
{
    std::string pattern = (fs::temp_directory_path() / (name + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

TEST(WhitelistChecksum, TheFirstTokenIsTheDigest)
{
    const std::string digest(64, 'A');
    EXPECT_EQ(checksumDigest(digest + "  listeblanchemssante.xml\n"), std::string(64, 'a'));
    EXPECT_EQ(checksumDigest("\n  " + digest + "\n"), std::string(64, 'a'));
    EXPECT_THROW(checksumDigest(""), WhitelistError);
    EXPECT_THROW(checksumDigest(std::string(63, 'a') + "  list.xml"), WhitelistError);
    EXPECT_THROW(checksumDigest(std::string(65, 'a')), WhitelistError);
    EXPECT_THROW(checksumDigest("SHA256 (list.xml) = " + digest), WhitelistError);
    EXPECT_THROW(checksumDigest(std::string(63, 'a') + "g"), WhitelistError);
}

TEST(WhitelistChecksum, Sha256OfKnownInputs)
{
    EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(WhitelistLocation, CredentialsAndQueriesAreNotShown)
{
    EXPECT_EQ(displayLocation("https://user:secret@lists.example:8443/liste.xml?token=abc"),
              "https://lists.example:8443/liste.xml");
    EXPECT_EQ(displayLocation("https://espacedeconfiance.mssante.fr/listeblanchemssante.xml"),
              "https://espacedeconfiance.mssante.fr/listeblanchemssante.xml");
    EXPECT_EQ(displayLocation("/etc/plexus/whitelist.xml"), "/etc/plexus/whitelist.xml");
    EXPECT_NO_THROW(checkHttpsUrl("https://lists.example/liste.xml"));
    EXPECT_THROW(checkHttpsUrl("http://lists.example/liste.xml"), FetchError);
    EXPECT_THROW(checkHttpsUrl("https:///liste.xml"), FetchError);
    EXPECT_THROW(fetchDocument("ftp://lists.example/liste.xml", "", 1024), FetchError);
}

class WhitelistSourceTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir_ = makeTemporaryFolder("plexus-whitelist");
        settings_.localCopy = (dir_ / "whitelist.xml").string();
        settings_.source = (dir_ / "published.xml").string();
        writeAll(settings_.localCopy, listXml({"a.test", "b.test", "c.test"}));
    }
    void TearDown() override { fs::remove_all(dir_); }

    void publish(const std::string& xml) { writeAll(settings_.source, xml); }
    void publishChecksum(const std::string& text)
    {
        settings_.checksum = (dir_ / "published.sha256").string();
        writeAll(settings_.checksum, text);
    }
    std::vector<std::string> folderEntries() const
    {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
        std::ranges::sort(names);
        return names;
    }

    // The refresh failed and nothing changed: same list in use, same local copy.
    void expectKept(WhitelistSource& source, const WhitelistRefreshResult& result, const std::string& reason)
    {
        EXPECT_FALSE(result.ok);
        EXPECT_NE(result.error.find(reason), std::string::npos) << result.error;
        EXPECT_EQ(result.domains, 3u);
        EXPECT_EQ(source.current()->domainCount(), 3u);
        EXPECT_FALSE(source.current()->containsDomain("d.test"));
        EXPECT_EQ(readAll(settings_.localCopy), listXml({"a.test", "b.test", "c.test"}));
    }

    fs::path dir_;
    WhitelistSourceSettings settings_;
};

TEST_F(WhitelistSourceTest, StartsFromTheLocalCopy)
{
    publish(listXml({"other.test"}));
    WhitelistSource source(settings_);
    EXPECT_TRUE(source.current()->containsDomain("b.test"));
    EXPECT_FALSE(source.current()->containsDomain("other.test"));  // no fetch at start
}

TEST_F(WhitelistSourceTest, AGoodRefreshSwapsAndWritesTheLocalCopyAtomically)
{
    const std::string published = listXml({"a.test", "b.test", "c.test", "d.test"});
    publish(published);
    publishChecksum(sha256Hex(published) + "  published.xml\n");
    std::vector<WhitelistRefreshResult> observed;
    WhitelistSource source(settings_, [&observed](const WhitelistRefreshResult& result) { observed.push_back(result); });
    const auto before = source.current();

    const auto result = source.refreshNow();
    EXPECT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.domains, 4u);
    EXPECT_EQ(result.source, settings_.source);
    EXPECT_TRUE(source.current()->containsDomain("d.test"));
    EXPECT_FALSE(before->containsDomain("d.test"));  // readers keep the list they took
    EXPECT_EQ(readAll(settings_.localCopy), published);
    // Temporary file renamed over the copy: nothing left beside it.
    EXPECT_EQ(folderEntries(), (std::vector<std::string>{"published.sha256", "published.xml", "whitelist.xml"}));
    ASSERT_EQ(observed.size(), 1u);
    EXPECT_TRUE(observed[0].ok);
}

TEST_F(WhitelistSourceTest, ADownloadFailureKeepsTheCurrentList)
{
    WhitelistSource source(settings_);  // nothing published
    expectKept(source, source.refreshNow(), settings_.source);
}

TEST_F(WhitelistSourceTest, AChecksumMismatchKeepsTheCurrentList)
{
    publish(listXml({"a.test", "b.test", "c.test", "d.test"}));
    publishChecksum(sha256Hex("something else") + "  published.xml\n");
    WhitelistSource source(settings_);
    expectKept(source, source.refreshNow(), "checksum mismatch");
}

TEST_F(WhitelistSourceTest, AnUnreadableChecksumKeepsTheCurrentList)
{
    publish(listXml({"a.test", "b.test", "c.test", "d.test"}));
    publishChecksum("<html>not found</html>");
    WhitelistSource source(settings_);
    expectKept(source, source.refreshNow(), "SHA-256 digest");
}

TEST_F(WhitelistSourceTest, AMalformedDocumentKeepsTheCurrentList)
{
    publish("<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\"><ListeDomaines><Domaine>");
    WhitelistSource source(settings_);
    expectKept(source, source.refreshNow(), settings_.source);
}

TEST_F(WhitelistSourceTest, AWrongNamespaceKeepsTheCurrentList)
{
    publish(listXml({"a.test", "b.test", "c.test", "d.test"}, "https://example.test/other"));
    WhitelistSource source(settings_);
    expectKept(source, source.refreshNow(), "expected {https://listeblanche.mssante.fr/schema}");
}

TEST_F(WhitelistSourceTest, AnEmptyListKeepsTheCurrentList)
{
    publish(listXml({}));
    WhitelistSource source(settings_);
    expectKept(source, source.refreshNow(), "no Domaine");
}

TEST_F(WhitelistSourceTest, AListLosingMoreThanHalfItsDomainsNeedsForce)
{
    publish(listXml({"a.test"}));
    WhitelistSource source(settings_);
    expectKept(source, source.refreshNow(), "less than 50% of the 3");
    const auto forced = source.refreshNow(true);
    EXPECT_TRUE(forced.ok) << forced.error;
    EXPECT_EQ(source.current()->domainCount(), 1u);
    EXPECT_EQ(readAll(settings_.localCopy), listXml({"a.test"}));
}

TEST_F(WhitelistSourceTest, AdoptsALocalCopyWrittenByAnotherProcess)
{
    publish(listXml({"a.test", "b.test", "c.test", "d.test"}));
    WhitelistSource daemon(settings_);
    WhitelistSource operatorTool(settings_);
    ASSERT_TRUE(operatorTool.refreshNow().ok);
    fs::remove(settings_.source);  // the source is down when the daemon refreshes
    const auto result = daemon.refreshNow();
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(daemon.current()->containsDomain("d.test"));
}

TEST_F(WhitelistSourceTest, WithoutASourceTheLocalCopyIsReloaded)
{
    settings_.source.clear();
    WhitelistSource source(settings_);
    writeAll(settings_.localCopy, listXml({"a.test", "b.test", "c.test", "d.test"}));
    const auto result = source.refreshNow();
    EXPECT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.source, settings_.localCopy);
    EXPECT_TRUE(source.current()->containsDomain("d.test"));

    writeAll(settings_.localCopy, "not XML");
    EXPECT_FALSE(source.refreshNow().ok);
    EXPECT_TRUE(source.current()->containsDomain("d.test"));
}

TEST_F(WhitelistSourceTest, WithoutALocalCopyTheSourceIsFetchedAtStart)
{
    fs::remove(settings_.localCopy);
    publish(listXml({"a.test"}));
    WhitelistSource source(settings_);
    EXPECT_TRUE(source.current()->containsDomain("a.test"));
    EXPECT_EQ(readAll(settings_.localCopy), listXml({"a.test"}));
}

TEST_F(WhitelistSourceTest, WithNeitherThereIsNoStart)
{
    fs::remove(settings_.localCopy);
    EXPECT_THROW(WhitelistSource source(settings_), WhitelistError);
    settings_.source.clear();
    EXPECT_THROW(WhitelistSource source(settings_), WhitelistError);
}

TEST_F(WhitelistSourceTest, TheScheduleStopsPromptly)
{
    settings_.refreshInterval = std::chrono::minutes(60);
    WhitelistSource source(settings_);
    source.startSchedule();
    const auto start = std::chrono::steady_clock::now();
    source.stopSchedule();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

// --- HTTPS downloads -----------------------------------------------------------

// Serves fixed documents by path; anything else is 404.
class DocumentServer {
public:
    DocumentServer(const fs::path& key, const fs::path& certificate)
    {
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key.string(),
                                                                 certificate.string(), "",
                                                                 Poco::Net::Context::VERIFY_NONE);
        Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 16, context);
        port_ = socket.address().port();
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, new Poco::Net::HTTPServerParams);
        server_->start();
    }
    ~DocumentServer() { server_->stopAll(true); }

    void serve(const std::string& path, std::string body)
    {
        std::lock_guard lock(mutex_);
        documents_[path] = std::move(body);
    }
    std::string url(const std::string& host, const std::string& path) const
    {
        return "https://" + host + ":" + std::to_string(port_) + path;
    }

private:
    class Handler final : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handler(DocumentServer& server) : server_(server) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override
        {
            std::lock_guard lock(server_.mutex_);
            const auto found = server_.documents_.find(request.getURI());
            if (found == server_.documents_.end()) {
                response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
                response.send() << "not found";
                return;
            }
            response.setContentLength64(static_cast<Poco::Int64>(found->second.size()));
            response.send() << found->second;
        }

    private:
        DocumentServer& server_;
    };
    class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(DocumentServer& server) : server_(server) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override
        {
            return new Handler(server_);
        }

    private:
        DocumentServer& server_;
    };

    std::mutex mutex_;
    std::map<std::string, std::string> documents_;
    unsigned short port_ = 0;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

class WhitelistDownloadTest : public ::testing::Test {
protected:
    static std::string fetchError(const std::string& url, const std::string& caFile, std::size_t maxBytes = 1 << 20)
    {
        try {
            fetchDocument(url, caFile, maxBytes);
        } catch (const FetchError& e) {
            return e.what();
        }
        return "(no error)";
    }

    static void SetUpTestSuite()
    {
        pki_ = makeTemporaryFolder("plexus-whitelist-pki");
        createRootCa({"Whitelist test CA", "Plexus tests", "FR"}, pki_ / "ca.key", pki_ / "ca.crt");
        createRootCa({"Unrelated CA", "Plexus tests", "FR"}, pki_ / "other.key", pki_ / "other.crt");
        issueServerCertificate(pki_ / "ca.key", pki_ / "ca.crt", "localhost", {"127.0.0.1"}, "Plexus tests",
                               pki_ / "server.key", pki_ / "server.crt");
        issueServerCertificate(pki_ / "ca.key", pki_ / "ca.crt", "lists.example", {}, "Plexus tests",
                               pki_ / "misnamed.key", pki_ / "misnamed.crt");
    }
    static void TearDownTestSuite() { fs::remove_all(pki_); }

    static inline fs::path pki_;
    DocumentServer server_{pki_ / "server.key", pki_ / "server.crt"};
};

TEST_F(WhitelistDownloadTest, TheCertificateAndTheHostNameAreVerified)
{
    const std::string xml = listXml({"a.test"});
    server_.serve("/listeblanchemssante.xml", xml);
    const auto ca = (pki_ / "ca.crt").string();
    EXPECT_EQ(fetchDocument(server_.url("127.0.0.1", "/listeblanchemssante.xml"), ca, 1 << 20), xml);
    EXPECT_EQ(fetchDocument(server_.url("localhost", "/listeblanchemssante.xml"), ca, 1 << 20), xml);
    DocumentServer misnamed(pki_ / "misnamed.key", pki_ / "misnamed.crt");  // for lists.example only
    misnamed.serve("/listeblanchemssante.xml", xml);
    EXPECT_NE(fetchError(misnamed.url("127.0.0.1", "/listeblanchemssante.xml"), ca).find("IP address mismatch"),
              std::string::npos);
    EXPECT_NE(fetchError(misnamed.url("localhost", "/listeblanchemssante.xml"), ca).find("hostname mismatch"),
              std::string::npos);
    EXPECT_NE(fetchError(server_.url("127.0.0.1", "/listeblanchemssante.xml"), (pki_ / "other.crt").string())
                  .find("unable to get local issuer certificate"),
              std::string::npos);
}

TEST_F(WhitelistDownloadTest, StatusAndSizeAreChecked)
{
    server_.serve("/big.xml", std::string(2048, 'x'));
    const auto ca = (pki_ / "ca.crt").string();
    EXPECT_NE(fetchError(server_.url("127.0.0.1", "/missing.xml"), ca).find("HTTP 404"), std::string::npos);
    EXPECT_NE(fetchError(server_.url("127.0.0.1", "/big.xml"), ca, 1024).find("more than the limit of 1024"),
              std::string::npos);
    EXPECT_EQ(fetchDocument(server_.url("127.0.0.1", "/big.xml"), ca, 2048).size(), 2048u);
}

TEST_F(WhitelistDownloadTest, ASourceOverHttpsWithItsChecksum)
{
    const auto dir = makeTemporaryFolder("plexus-whitelist-https");
    const std::string published = listXml({"a.test", "b.test"});
    server_.serve("/liste.xml", published);
    server_.serve("/liste.xml.sha256", sha256Hex(published) + "  liste.xml\n");
    WhitelistSourceSettings settings;
    settings.localCopy = (dir / "whitelist.xml").string();
    settings.source = server_.url("127.0.0.1", "/liste.xml");
    settings.checksum = server_.url("127.0.0.1", "/liste.xml.sha256");
    settings.caFile = (pki_ / "ca.crt").string();
    {
        WhitelistSource source(settings);  // no local copy yet: fetched
        EXPECT_TRUE(source.current()->containsDomain("b.test"));
        server_.serve("/liste.xml", listXml({"a.test", "b.test", "c.test"}));  // checksum not updated
        const auto result = source.refreshNow();
        EXPECT_FALSE(result.ok);
        EXPECT_NE(result.error.find("checksum mismatch"), std::string::npos) << result.error;
        EXPECT_FALSE(source.current()->containsDomain("c.test"));
    }
    EXPECT_EQ(readAll(settings.localCopy), published);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace plexus::trust
