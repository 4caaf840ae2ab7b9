#include "trust/DistinguishedName.h"

#include "trust/OpenSsl.h"
#include "PrintTrust.h"

#include <gtest/gtest.h>

#include <openssl/err.h>

#include <string>
#include <vector>

namespace plexus::trust {
namespace {

constexpr const char* kMipih = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR";
constexpr const char* kJeebop =
    "CN=mssante.jeebop.fr,OU=341518515600056,O=WRAPTOR LABORATORIES,ST=Bouches-du-Rhône (13),C=FR";

DistinguishedName dn(const std::string& text) { return DistinguishedName::parse(text); }

// Entries in X.500 order (most general first); `set` -1 joins the previous RDN.
struct NameEntry {
    std::string type;
    std::string value;
    int set = 0;
};

openssl::X509Ptr certificateWithSubject(const std::vector<NameEntry>& entries)
{
    openssl::X509Ptr certificate(X509_new());
    X509_NAME* subject = X509_get_subject_name(certificate.get());
    for (const auto& entry : entries) {
        EXPECT_EQ(1, X509_NAME_add_entry_by_txt(subject, entry.type.c_str(), MBSTRING_UTF8,
                                                reinterpret_cast<const unsigned char*>(entry.value.data()),
                                                static_cast<int>(entry.value.size()), -1, entry.set));
    }
    return certificate;
}

TEST(DistinguishedName, ParsesAWhitelistDnInRfc4514Order)
{
    const auto name = dn(kMipih);
    ASSERT_EQ(5u, name.rdns().size());
    EXPECT_EQ((DnAttribute{"CN", "medimail-asip.mipih.fr"}), name.rdns()[0].at(0));
    EXPECT_EQ((DnAttribute{"ST", "Haute-Garonne (31)"}), name.rdns()[3].at(0));
    EXPECT_EQ((DnAttribute{"C", "FR"}), name.rdns()[4].at(0));
    EXPECT_EQ(kMipih, name.toString());
}

TEST(DistinguishedName, DifferentOperatorsDiffer)
{
    EXPECT_FALSE(dn(kMipih) == dn(kJeebop));
    EXPECT_FALSE(dn("CN=a,O=X") == dn("CN=b,O=X"));
    EXPECT_FALSE(dn("CN=a,O=X") == dn("CN=a,O=X,C=FR"));
    EXPECT_FALSE(dn("CN=a,O=X") == DistinguishedName());
}

TEST(DistinguishedName, TypesAndAsciiLettersCompareCaseInsensitively)
{
    EXPECT_EQ(dn(kMipih), dn("cn=MEDIMAIL-ASIP.mipih.fr,ou=318310021300028,o=gip mipih,st=haute-garonne (31),c=fr"));
}

TEST(DistinguishedName, InsignificantSpacesAreIgnored)
{
    EXPECT_EQ(dn(kMipih),
              dn("  CN = medimail-asip.mipih.fr , OU=318310021300028,O=GIP \t  MIPIH,ST= Haute-Garonne (31) ,C=FR "));
    // As written in the real list for one operator.
    EXPECT_EQ(dn("CN=mailin.interop-mssante.apicrypt.org, OU=343975235300037, O=APICEM, ST=Nord (59), C=FR"),
              dn("CN=mailin.interop-mssante.apicrypt.org,OU=343975235300037,O=APICEM,ST=Nord (59),C=FR"));
    EXPECT_FALSE(dn("O=GIP MIPIH") == dn("O=GIPMIPIH"));
}

TEST(DistinguishedName, ReverseOrderMatchesButNotAnyOtherOrder)
{
    EXPECT_EQ(dn(kMipih), dn("C=FR,ST=Haute-Garonne (31),O=GIP MIPIH,OU=318310021300028,CN=medimail-asip.mipih.fr"));
    EXPECT_FALSE(dn(kMipih) ==
                 dn("CN=medimail-asip.mipih.fr,O=GIP MIPIH,OU=318310021300028,ST=Haute-Garonne (31),C=FR"));
}

TEST(DistinguishedName, TypeAliasesAndOidsAreNormalised)
{
    EXPECT_EQ(dn("CN=x,ST=Paris (75),C=FR"), dn("CN=x,S=Paris (75),C=FR"));
    EXPECT_EQ(dn("emailAddress=a@b.fr,CN=x"), dn("E=a@b.fr,CN=x"));
    EXPECT_EQ(dn("emailAddress=a@b.fr,CN=x"), dn("email=A@B.fr,commonName=x"));
    EXPECT_EQ(dn("CN=x,C=FR"), dn("2.5.4.3=x,OID.2.5.4.6=FR"));
    EXPECT_EQ("CN=x,ST=Paris,EMAILADDRESS=a@b.fr", dn("2.5.4.3=x,s=Paris,e=a@b.fr").toString());
    // Known to OpenSSL but not listed by us: canonical form is the OID, as from a certificate.
    EXPECT_EQ(dn("businessCategory=x"), dn("2.5.4.15=x"));
    EXPECT_EQ("1.2.3.4=x", dn("1.2.3.4=x").toString());
}

TEST(DistinguishedName, EscapesAreDecodedAndReEncoded)
{
    const auto name = dn(R"(CN=Dupont\, Jean,O=A\+B \<C\>,OU=\#1\ )");
    EXPECT_EQ("Dupont, Jean", name.rdns()[0].at(0).value);
    EXPECT_EQ("A+B <C>", name.rdns()[1].at(0).value);
    EXPECT_EQ("#1 ", name.rdns()[2].at(0).value);
    EXPECT_EQ(R"(CN=Dupont\, Jean,O=A\+B \<C\>,OU=\#1\ )", name.toString());
}

TEST(DistinguishedName, HexEscapesGiveUtf8AndToStringKeepsUtf8)
{
    const auto name = dn(R"(ST=Bouches-du-Rh\C3\B4ne (13),C=FR)");
    EXPECT_EQ("Bouches-du-Rhône (13)", name.rdns()[0].at(0).value);
    EXPECT_EQ("ST=Bouches-du-Rhône (13),C=FR", name.toString());
    EXPECT_EQ(name, dn("ST=Bouches-du-Rhône (13),C=FR"));
    EXPECT_EQ(dn("CN=abc"), dn("CN=#0C03616263"));  // BER UTF8String "abc"
}

// Both forms are in the national list.
TEST(DistinguishedName, AcceptsLegacyQuotingAndUnescapedQuotes)
{
    const auto quoted = dn(R"(CN=mss.ch-cadillac.fr,O="C.H. DE  CADILLAC",C=FR)");
    EXPECT_EQ("C.H. DE  CADILLAC", quoted.rdns()[1].at(0).value);
    EXPECT_EQ(quoted, dn("CN=mss.ch-cadillac.fr,O=C.H. DE CADILLAC,C=FR"));
    EXPECT_EQ("a,b;c", dn(R"(O="a,b;c")").rdns()[0].at(0).value);
    const auto inner = dn(R"(O=CRLCC "PAUL STRAUSS",C=FR)");
    EXPECT_EQ(R"(CRLCC "PAUL STRAUSS")", inner.rdns()[0].at(0).value);
    EXPECT_EQ(R"(O=CRLCC \"PAUL STRAUSS\",C=FR)", inner.toString());
}

TEST(DistinguishedName, NonAsciiBytesCompareExactly)
{
    EXPECT_EQ(dn("ST=Rhône"), dn("st=RHôNE"));
    EXPECT_FALSE(dn("ST=Rhône") == dn("ST=RHÔNE"));
    EXPECT_FALSE(dn("ST=Rhône") == dn("ST=Rhone"));
}

TEST(DistinguishedName, MultiValuedRdnIgnoresAttributeOrder)
{
    const auto name = dn("CN=Jean Dupont+UID=42,O=X");
    ASSERT_EQ(2u, name.rdns().size());
    EXPECT_EQ(2u, name.rdns()[0].size());
    EXPECT_EQ(name, dn("UID=42 + cn=jean dupont,O=X"));
    EXPECT_EQ(name, dn("O=X,UID=42+CN=Jean Dupont"));
    EXPECT_FALSE(name == dn("CN=Jean Dupont,UID=42,O=X"));
}

TEST(DistinguishedName, MalformedTextIsRejectedWithAPreciseMessage)
{
    const std::vector<std::string> malformed = {
        "",        "   ",      "CN",           "CN=x,",       ",CN=x",     "=x",         "CN=x,,O=y",
        "CN=a\\",  "CN=a\\4",  "CN=a\\q",      "CN=a;b",      "CN=a<b",    "CN=\"abc",   "CN=\"a\"b", "CN=\\FF",
        "CN=#zz",  "CN=#0C",   "CN=#0C036162", "CN=#020101",  "FOO=bar",   "01.2=x",     "1=x",
        "C N=x",   "CN=x+",    "CN=x,O",
    };
    for (const auto& text : malformed) {
        SCOPED_TRACE(text);
        try {
            DistinguishedName::parse(text);
            ADD_FAILURE() << "accepted";
        } catch (const DnError& e) {
            EXPECT_NE(std::string::npos, std::string(e.what()).find("\"" + text + "\"")) << e.what();
            EXPECT_NE(std::string::npos, std::string(e.what()).find(" at offset ")) << e.what();
        }
    }
}

TEST(DistinguishedName, ErrorNamesTheProblem)
{
    try {
        DistinguishedName::parse("CN=a,FOO=b");
        FAIL() << "accepted";
    } catch (const DnError& e) {
        EXPECT_EQ(std::string(R"(invalid distinguished name "CN=a,FOO=b": unknown attribute type "FOO" at offset 5)"),
                  e.what());
    }
}

TEST(DistinguishedName, FromCertificateEqualsTheWhitelistText)
{
    const auto certificate = certificateWithSubject({{"C", "FR"},
                                                     {"ST", "Bouches-du-Rhône (13)"},
                                                     {"O", "WRAPTOR LABORATORIES"},
                                                     {"OU", "341518515600056"},
                                                     {"CN", "mssante.jeebop.fr"}});
    const auto name = DistinguishedName::fromX509(certificate.get());
    EXPECT_EQ(dn(kJeebop), name);
    EXPECT_EQ(kJeebop, name.toString());
    EXPECT_FALSE(dn(kMipih) == name);
    EXPECT_EQ(0u, ERR_peek_error()) << "OpenSSL errors left for the next TLS call on this thread";
}

TEST(DistinguishedName, FromCertificateKeepsMultiValuedRdns)
{
    const auto certificate = certificateWithSubject({{"O", "X"}, {"CN", "Jean"}, {"UID", "42", -1}});
    const auto name = DistinguishedName::fromX509(certificate.get());
    ASSERT_EQ(2u, name.rdns().size());
    EXPECT_EQ(name, dn("UID=42+CN=Jean,O=X"));
    EXPECT_FALSE(name == dn("CN=Jean,UID=42,O=X"));
}

TEST(DistinguishedName, ToStringParsesBackToTheSameName)
{
    using namespace std::string_literals;
    const std::vector<std::string> values = {"a,b",    "a+b",   " lead", "trail ",      "#x",         "q\"uote",
                                             "back\\slash", "semi;colon", "<tag>", "é=è", "nul\0byte"s};
    for (const auto& value : values) {
        SCOPED_TRACE(value);
        const auto name = DistinguishedName::fromX509(certificateWithSubject({{"O", "X"}, {"CN", value}}).get());
        const auto reparsed = dn(name.toString());
        EXPECT_EQ(name, reparsed);
        EXPECT_EQ(value, reparsed.rdns()[0].at(0).value);
    }
}

}  // namespace
}  // namespace plexus::trust
