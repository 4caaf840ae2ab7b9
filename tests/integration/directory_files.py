"""Generates national directory extractions (Extraction_Correspondance_MSSante,
pipe-separated, 31 columns) with realistic French names, professions and cities,
for the directory tests and the directory benchmark."""
import random

CORRESPONDANCE_COLUMNS = [
    "Type BAL", "Adresse BAL", "Type Identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Type identifiant structure", "Identification Structure", "Service de rattachement", "Civilite exercice",
    "Nom d'exercice", "Prénom d'exercice", "Categorie professionnelle", "Libelle categorie professionnelle",
    "Code profession", "Libelle profession", "Code savoir-faire", "Libelle savoir-faire", "Dematerialisation",
    "Raison sociale structure BAL", "Enseigne commerciale structure BAL", "Complément localisation structure BAL",
    "Complément distribution structure BAL", "Numéro voie structure BAL", "Complément numéro voie structure BAL",
    "Type voie structure BAL", "Libellé voie structure BAL", "Lieu-dit structure BAL",
    "Ligne acheminement structure BAL", "Code postal structure BAL", "Département structure BAL",
    "Pays structure BAL",
]
assert len(CORRESPONDANCE_COLUMNS) == 31

LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefèvre", "Michel", "García", "David", "Bertrand", "Roux", "Vincent", "Fournier",
              "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
              "Martínez", "Légaré", "Bœuf", "Châtelain", "Hébert", "Pérez", "Besançon", "Noël", "Gaël", "Adélaïde",
              "Ménard", "Chevallier", "Rivière", "Benoît", "Jégou", "Le Goff", "Nguyen", "Da Silva", "Brunet"]
FIRST_NAMES = ["Jeanne", "Hélène", "Léa", "Chloé", "Zoé", "Inès", "Anaïs", "Maëlle", "Céline", "Élodie", "Jérôme",
               "François", "Loïc", "Gaëtan", "Noël", "Rémi", "Benoît", "Hervé", "Stéphane", "André", "Pierre",
               "Marie", "Jean", "Nicolas", "Camille", "Louis", "Manon", "Hugo", "Thérèse", "Joël"]
PROFESSIONS = [("10", "Médecin", [("SM54", "Médecine générale"), ("SM04", "Cardiologie et maladies vasculaires"),
                                  ("SM26", "Pédiatrie"), ("SM19", "Gynécologie-obstétrique")]),
               ("60", "Infirmier", [("", "")]),
               ("21", "Pharmacien", [("", "")]),
               ("40", "Chirurgien-Dentiste", [("", "")]),
               ("50", "Sage-Femme", [("", "")]),
               ("70", "Masseur-Kinésithérapeute", [("", "")])]
CITIES = [("75010", "PARIS", "75"), ("69003", "LYON", "69"), ("13005", "MARSEILLE", "13"),
          ("31000", "TOULOUSE", "31"), ("33000", "BORDEAUX", "33"), ("59000", "LILLE", "59"),
          ("44000", "NANTES", "44"), ("67000", "STRASBOURG", "67"), ("34000", "MONTPELLIER", "34"),
          ("35000", "RENNES", "35"), ("06000", "NICE", "06"), ("97400", "SAINT-DENIS", "974"),
          ("25000", "BESANÇON", "25"), ("80000", "AMIENS", "80"), ("2A004", "AJACCIO", "2A")]
SERVICES = ["Cardiologie", "Urgences", "Pédiatrie", "Radiologie", "Secrétariat médical", "Laboratoire"]


def _ascii(text):
    table = str.maketrans("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ", "aaaceeeeiioouuuyoaAAACEEEEIIOOUUUY")
    return text.translate(table).lower().replace(" ", "-")


def mailbox_line(i, rng, hidden_share=0.0):
    """Values of one line, by column name; i makes addresses and ids unique."""
    postcode, city, department = rng.choice(CITIES)
    finess = f"{department[:2]}{i % 10000000:07d}"
    values = {"Identification Structure": finess, "Raison sociale structure BAL": f"Centre de santé {city.title()}",
              "Numéro voie structure BAL": str(rng.randint(1, 200)), "Type voie structure BAL": "R",
              "Libellé voie structure BAL": "de la République", "Code postal structure BAL": postcode,
              "Ligne acheminement structure BAL": f"{postcode} {city}", "Département structure BAL": department,
              "Pays structure BAL": "FRANCE", "Type identifiant structure": "1"}
    if i % 10 == 9:  # one in ten: an organizational mailbox
        service = rng.choice(SERVICES)
        values.update({"Type BAL": "ORG", "Service de rattachement": service,
                       "Adresse BAL": f"{_ascii(service)}.{i}@{city.lower()}.mssante.fr"})
    else:
        last, first = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
        code, label, specialties = rng.choice(PROFESSIONS)
        specialty_code, specialty_label = rng.choice(specialties)
        rpps = f"1{i:010d}"
        values.update({"Type BAL": "PER", "Adresse BAL": f"{_ascii(first)}.{_ascii(last)}.{i}@{city.lower()}.mssante.fr",
                       "Type Identifiant PP": "8", "Identifiant PP": rpps, "Identification nationale PP": "8" + rpps,
                       "Civilite exercice": "DR" if code == "10" else "", "Nom d'exercice": last.upper(),
                       "Prénom d'exercice": first, "Code profession": code, "Libelle profession": label,
                       "Code savoir-faire": specialty_code, "Libelle savoir-faire": specialty_label})
    if hidden_share and rng.random() < hidden_share:
        values["Liste rouge"] = "O"
    return values


def write_correspondance(path, lines, seed=1, columns=None, with_hidden=False):
    """Writes `lines` (an iterable of value dicts) under `columns` (default: the 31)."""
    columns = list(columns or CORRESPONDANCE_COLUMNS) + (["Liste rouge"] if with_hidden else [])
    with open(path, "w", encoding="utf-8", newline="\r\n") as out:
        out.write("|".join(columns) + "|\n")
        for values in lines:
            out.write("|".join(values.get(c, "") for c in columns) + "|\n")


def generated_lines(count, seed=1, hidden_share=0.0):
    rng = random.Random(seed)
    return (mailbox_line(i, rng, hidden_share) for i in range(count))
