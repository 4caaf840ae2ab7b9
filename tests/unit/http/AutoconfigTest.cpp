#include "http/Autoconfig.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <gtest/gtest.h>

using namespace plexus::http;

namespace {

Poco::AutoPtr<Poco::XML::Document> parse(const std::string& xml)
{
    Poco::XML::DOMParser parser;
    return parser.parseString(xml);
}

std::vector<std::string> texts(Poco::XML::Element* parent, const std::string& name)
{
    std::vector<std::string> result;
    Poco::AutoPtr<Poco::XML::NodeList> nodes = parent->getElementsByTagName(name);
    for (unsigned long i = 0; i < nodes->length(); ++i) result.push_back(nodes->item(i)->innerText());
    return result;
}

}  // namespace

TEST(Autoconfig, ListsImapAndSubmissionEndpointsWithTls)
{
    MailEndpoints endpoints{"mail.hopital.test", {"hopital.test", "ght.test"}, 10993, 10143, 10465, 10587, true, true};
    const auto document = parse(autoconfigXml(endpoints));
    auto* root = document->documentElement();
    EXPECT_EQ(root->nodeName(), "clientConfig");
    EXPECT_EQ(root->getAttribute("version"), "1.1");
    auto* provider = root->getChildElement("emailProvider");
    ASSERT_NE(provider, nullptr);
    EXPECT_EQ(provider->getAttribute("id"), "hopital.test");
    EXPECT_EQ(texts(provider, "domain"), (std::vector<std::string>{"hopital.test", "ght.test"}));
    EXPECT_EQ(texts(provider, "port"), (std::vector<std::string>{"10993", "10143", "10465", "10587"}));
    EXPECT_EQ(texts(provider, "socketType"), (std::vector<std::string>{"SSL", "STARTTLS", "SSL", "STARTTLS"}));
    for (const auto& host : texts(provider, "hostname")) EXPECT_EQ(host, "mail.hopital.test");
    const auto mechanisms = texts(provider, "authentication");
    ASSERT_EQ(mechanisms.size(), 12u);
    EXPECT_EQ(mechanisms[0], "OAuth2");
    EXPECT_EQ(mechanisms[1], "password-cleartext");
    EXPECT_EQ(mechanisms[2], "TLS-client-cert");
    EXPECT_EQ(texts(provider, "displayShortName").at(0), "MSSanté");
}

TEST(Autoconfig, LeavesOutPasswordsWhenTheOperatorDisabledThem)
{
    MailEndpoints endpoints{"mail.test", {"test"}, 993, 143, 465, 587, false, false};
    const auto document = parse(autoconfigXml(endpoints));
    const auto mechanisms = texts(document->documentElement(), "authentication");
    for (const auto& mechanism : mechanisms) EXPECT_EQ(mechanism, "TLS-client-cert");
}

TEST(Autoconfig, EscapesMarkupInNames)
{
    MailEndpoints endpoints{"mail<&>.test", {"a&b.test"}, 993, 143, 465, 587, true, false};
    const auto document = parse(autoconfigXml(endpoints));
    EXPECT_EQ(texts(document->documentElement(), "domain").at(0), "a&b.test");
    EXPECT_EQ(texts(document->documentElement(), "hostname").at(0), "mail<&>.test");
}
