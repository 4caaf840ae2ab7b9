// Export of this instance's own mailboxes in the layout of the national
// extraction Extraction_Correspondance_MSSante (NationalFileColumns.h): a
// header line with its 31 column names and "Liste rouge", then one line per
// mailbox, pipe-separated UTF-8, so that `plexusctl directory import` on
// another instance reads it back. Columns the model has no value for are empty.
#pragma once

#include "directory/LdapMapping.h"
#include "store/Sqlite.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// The state key of the export in the `publication` table.
inline constexpr std::string_view exportTarget = "export";

// The header line, without its line break.
std::string exportHeader();
// A value as a field: the format has no escape, so '|' and control characters
// (line breaks, tabs) become spaces, and outer spaces go (the importer trims).
std::string exportField(std::string_view value);
// One mailbox's line, without its line break. The last column ("Liste rouge",
// O or N) is never empty: the importer drops an empty last field.
std::string exportLine(const MappedEntry& entry);

struct ExportSummary {
    std::size_t mailboxes = 0;
    std::size_t added = 0, changed = 0, removed = 0, unchanged = 0;  // since the last export
};

// Writes every mailbox to `path` atomically (dryRun: only counts), then
// records the export as the state the next one is compared with.
ExportSummary exportNationalFile(store::Database& directory, const std::vector<MappedEntry>& mailboxes,
                                 const std::string& path, bool dryRun);

}  // namespace plexus::directory
