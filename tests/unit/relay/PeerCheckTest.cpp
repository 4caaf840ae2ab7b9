#include "relay/PeerCheck.h"

#include <gtest/gtest.h>

#include <string>

namespace plexus::relay {
namespace {

constexpr const char* kClinique = "CN=mx.clinique.mssante.test,O=Clinique,C=FR";
constexpr const char* kCliniqueBackup = "CN=mx2.clinique.mssante.test,O=Clinique,C=FR";
constexpr const char* kOther = "CN=mx.autre.mssante.test,O=Autre,C=FR";

trust::Whitelist whitelist()
{
    std::string domains;
    for (const auto& [domain, dn] : {std::pair{"clinique.mssante.test", kClinique},
                                     std::pair{"clinique.mssante.test", kCliniqueBackup},
                                     std::pair{"autre.mssante.test", kOther}})
        domains += std::string("<Domaine><Nom>") + domain + "</Nom><Description>t</Description><DNCertificatOperateur>" +
                   dn + "</DNCertificatOperateur><DateMAJ>2026-01-01T00:00:00Z</DateMAJ></Domaine>";
    return trust::Whitelist::parse(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\">"
        "<DateDeGeneration>2026-01-01T00:00:00Z</DateDeGeneration><ListeDomaines>" +
        domains + "</ListeDomaines></ListeBlancheMSSante>");
}

std::optional<trust::DistinguishedName> dn(const char* text) { return trust::DistinguishedName::parse(text); }

TEST(OperatorRefusal, AcceptsEveryDnListedForTheDomain)
{
    const auto list = whitelist();
    EXPECT_EQ(operatorRefusal(list, "clinique.mssante.test", dn(kClinique)), std::nullopt);
    EXPECT_EQ(operatorRefusal(list, "Clinique.MSSante.test.", dn(kCliniqueBackup)), std::nullopt);
    // The whitelist's matching rule: reversed order and case do not matter.
    EXPECT_EQ(operatorRefusal(list, "clinique.mssante.test", dn("c=fr, o=CLINIQUE, cn=MX.clinique.mssante.test")),
              std::nullopt);
}

TEST(OperatorRefusal, NamesTheDnAndTheListedOnes)
{
    const auto refusal = operatorRefusal(whitelist(), "clinique.mssante.test", dn(kOther));
    ASSERT_TRUE(refusal);
    EXPECT_EQ(*refusal, "peer certificate CN=mx.autre.mssante.test,O=Autre,C=FR is not listed for "
                        "clinique.mssante.test in the MSSanté whitelist (listed: "
                        "CN=mx.clinique.mssante.test,O=Clinique,C=FR | CN=mx2.clinique.mssante.test,O=Clinique,C=FR)");
}

TEST(OperatorRefusal, DomainOutsideTheTrustSpace)
{
    EXPECT_EQ(operatorRefusal(whitelist(), "gmail.com", dn(kClinique)),
              "domain gmail.com is not in the MSSanté trust space (whitelist)");
}

TEST(OperatorRefusal, NoCertificate)
{
    EXPECT_EQ(operatorRefusal(whitelist(), "clinique.mssante.test", std::nullopt), "peer presented no certificate");
    EXPECT_EQ(operatorRefusal(whitelist(), "clinique.mssante.test", trust::DistinguishedName()),
              "peer presented no certificate");
}

}  // namespace
}  // namespace plexus::relay
