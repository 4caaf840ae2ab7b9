// The patients an IHE XDM package names: METADATA.XML (an ebRS 3.0
// SubmitObjectsRequest) inside IHE_XDM.ZIP, its XDSDocumentEntry.patientId
// external identifiers and sourcePatientId slots, kept when they are INS.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::atna {

class XdmError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

constexpr std::size_t kMaxMetadataBytes = 4 * 1024 * 1024;  // an uncompressed METADATA.XML
constexpr std::size_t kMaxZipEntries = 1000;

// Whether an HL7 CX patient id (id^^^&OID&ISO) is an INS: its assigning
// authority is 1.2.250.1.213.1.4.8 (NIR), .9 (NIA), .10 or .11 (test NIR, NIA).
bool isIns(std::string_view cx);

// The INS of METADATA.XML, without repeats, in document order. No DTD, no
// external entity: a DOCTYPE is refused. Throws XdmError when it is not XML.
std::vector<std::string> insInMetadata(std::string_view metadataXml);

// The INS of every METADATA.XML in an XDM zip (the bytes of IHE_XDM.ZIP).
// Throws XdmError for a bad zip or an entry over the limits.
std::vector<std::string> insInXdmZip(std::string_view zipBytes);

}  // namespace plexus::atna
