// Import of the national directory's flat extractions, pipe-separated UTF-8
// with a header line, into a DirectoryStore:
//   Extraction_Correspondance_MSSante   one line per mailbox (31 columns)
//   PS_LibreAcces_Personne_activite     one line per activity of a professional
// Columns are found by header name (order-independent); a header missing a
// needed column is refused, naming the columns. The file is streamed, and the
// import is a diff against the previous import of that kind (its own source,
// "file:correspondance" or "file:personne-activite"): adds, changes, deletes,
// all in one transaction, so readers see the old or the new file, never a mix.
#pragma once

#include "directory/DirectoryStore.h"

#include <cstddef>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

enum class NationalFileKind { correspondance, personneActivite };

// The kind a national file's name says, e.g. "Extraction_Correspondance_MSSante_202612010400.txt".
std::optional<NationalFileKind> nationalFileKindOf(std::string_view fileName);
std::string_view sourceOf(NationalFileKind kind);

struct ImportOptions {
    // Stop when an import would delete more than this share of a record kind's
    // records held from the previous import; force imports anyway.
    double maxDeleteShare = 0.10;
    bool force = false;
    std::size_t maxLineBytes = 16 * 1024;  // a longer line is skipped
};

struct ImportCounts {
    std::size_t added = 0, changed = 0, unchanged = 0, deleted = 0;
};

struct ImportReport {
    std::size_t lines = 0;    // data lines read
    std::size_t skipped = 0;  // malformed lines (see skipReasons)
    ImportCounts persons, structures, mailboxes;
    std::vector<std::string> skipReasons;  // the first few, "line N: why"
};

// The file cannot be imported (header, safety brake, unreadable): nothing changed.
class ImportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

ImportReport importNationalFile(DirectoryStore& store, NationalFileKind kind, std::istream& in,
                                const ImportOptions& options = {});

}  // namespace plexus::directory
