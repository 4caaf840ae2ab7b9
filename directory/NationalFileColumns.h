// Column names of the national directory's flat extractions (header line), as
// read by the importer and written by the export of Plexus's own mailboxes.
// Assumed from the published files' documentation; see README.md.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace plexus::directory::national {

// Extraction_Correspondance_MSSante: one line per mailbox, these 31 columns
// in this order (the export writes them so; the importer finds them by name).
inline constexpr std::array<std::string_view, 31> mailboxFileColumns{
    "Type BAL", "Adresse BAL", "Type Identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Type identifiant structure", "Identification Structure", "Service de rattachement", "Civilite exercice",
    "Nom d'exercice", "Prénom d'exercice", "Categorie professionnelle", "Libelle categorie professionnelle",
    "Code profession", "Libelle profession", "Code savoir-faire", "Libelle savoir-faire", "Dematerialisation",
    "Raison sociale structure BAL", "Enseigne commerciale structure BAL", "Complément localisation structure BAL",
    "Complément distribution structure BAL", "Numéro voie structure BAL", "Complément numéro voie structure BAL",
    "Type voie structure BAL", "Libellé voie structure BAL", "Lieu-dit structure BAL",
    "Ligne acheminement structure BAL", "Code postal structure BAL", "Département structure BAL",
    "Pays structure BAL"};

// The columns the model holds (the importer needs every one of them).
enum MailboxColumn : std::size_t {
    mailboxType, mailboxAddress, mailboxNationalId, mailboxStructureId, mailboxService, mailboxCivility,
    mailboxLastName, mailboxFirstName, mailboxProfessionCode, mailboxProfessionLabel, mailboxSpecialtyCode,
    mailboxSpecialtyLabel, mailboxStructureName, mailboxStreetNumber, mailboxStreetType, mailboxStreetName,
    mailboxPostcode, mailboxDeliveryLine, mailboxDepartment, mailboxColumnCount
};
// Where each of them is in mailboxFileColumns.
inline constexpr std::array<std::size_t, mailboxColumnCount> mailboxColumnPositions{
    0, 1, 4, 6, 7, 8, 9, 10, 13, 14, 15, 16, 18, 22, 24, 25, 28, 27, 29};
inline constexpr std::array<std::string_view, mailboxColumnCount> mailboxColumns = [] {
    std::array<std::string_view, mailboxColumnCount> names{};
    for (std::size_t i = 0; i < mailboxColumnCount; ++i) names[i] = mailboxFileColumns[mailboxColumnPositions[i]];
    return names;
}();
static_assert(mailboxColumns[mailboxPostcode] == "Code postal structure BAL" &&
              mailboxColumns[mailboxDeliveryLine] == "Ligne acheminement structure BAL" &&
              mailboxColumns[mailboxDepartment] == "Département structure BAL");
// Not in every extraction: when present, "O"/"1" marks a mailbox hidden from searches.
inline constexpr std::string_view hiddenColumn = "Liste rouge";

// PS_LibreAcces_Personne_activite: one line per activity of a professional.
enum ActivityColumn : std::size_t {
    activityNationalId, activityCivility, activityLastName, activityFirstName, activityProfessionCode,
    activityProfessionLabel, activitySpecialtyCode, activitySpecialtyLabel, activityPracticeMode, activityColumnCount
};
inline constexpr std::array<std::string_view, activityColumnCount> activityColumns{
    "Identification nationale PP", "Code civilité d'exercice", "Nom d'exercice", "Prénom d'exercice",
    "Code profession", "Libellé profession", "Code savoir-faire", "Libellé savoir-faire", "Code mode exercice"};

}  // namespace plexus::directory::national
