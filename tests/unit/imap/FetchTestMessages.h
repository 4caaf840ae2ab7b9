// Messages for the FETCH unit tests, written with "\n" and sent with CRLF.
#pragma once

#include <string>
#include <string_view>

namespace plexus::imap::test {

inline std::string crlf(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// multipart/mixed: 1 text/plain (QP), 2 text/html, 3 base64 PDF with every
// extension field, 4 message/rfc822 whose message is multipart/mixed
// (4.1 multipart/alternative: 4.1.1 text/plain, 4.1.2 text/html; 4.2 text/xml).
// A group in To, a folded To and Subject, RFC 2047 words kept raw.
inline std::string richMessage()
{
    return crlf(
        "From: =?UTF-8?Q?Dr_Ren=C3=A9e_Martin?= <renee.martin@chu-nantes.mssante.fr>\n"
        "Sender: Secretariat <secretariat@chu-nantes.mssante.fr>\n"
        "To: Equipe soins: infirmier@ch.mssante.fr, \"Dupont, Jean\" <jean.dupont@ch.mssante.fr>;,\n"
        " patient@example.org\n"
        "Cc: Pharmacie <pharma@ch.mssante.fr>\n"
        "Subject: =?ISO-8859-1?Q?R=E9sultats_d'analyses?=\n"
        " du patient\n"
        "Date: Tue, 4 Jun 2024 09:30:00 +0200\n"
        "Message-ID: <a1b2c3@chu-nantes.mssante.fr>\n"
        "In-Reply-To: <prev@ch.mssante.fr>\n"
        "X-MSS-Patient-INS: 1234567890123\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"==outer==\"\n"
        "\n"
        "This is a multi-part message in MIME format.\n"
        "--==outer==\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Bonjour,\n"
        "R=C3=A9sultats ci-joints.\n"
        "--==outer==\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "<p>Bonjour</p>\n"
        "--==outer==\n"
        "Content-Type: application/pdf; name=\"resultats.pdf\"\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"resultats.pdf\"\n"
        "Content-ID: <pdf1@chu>\n"
        "Content-Description: Compte rendu\n"
        "Content-Language: fr\n"
        "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
        "Content-Location: resultats.pdf\n"
        "\n"
        "JVBERi0xLjQKJcfs\n"
        "j6IKMSAwIG9iago=\n"
        "--==outer==\n"
        "Content-Type: message/rfc822\n"
        "Content-Description: Message transfere\n"
        "\n"
        "From: Labo <labo@labo.mssante.fr>\n"
        "To: renee.martin@chu-nantes.mssante.fr\n"
        "Subject: Transfert\n"
        "Date: Mon, 3 Jun 2024 18:00:00 +0200\n"
        "Message-ID: <inner@labo.mssante.fr>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=inner-mixed\n"
        "\n"
        "--inner-mixed\n"
        "Content-Type: multipart/alternative; boundary=alt\n"
        "\n"
        "--alt\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "Texte brut\n"
        "--alt\n"
        "Content-Type: text/html; charset=us-ascii\n"
        "Content-Language: fr, en\n"
        "\n"
        "<b>HTML</b>\n"
        "--alt--\n"
        "\n"
        "--inner-mixed\n"
        "Content-Type: text/xml; name=cda.xml\n"
        "Content-Disposition: attachment; filename=cda.xml; size=25\n"
        "\n"
        "<ClinicalDocument/>\n"
        "--inner-mixed--\n"
        "--==outer==--\n"
        "epilogue\n");
}

// Not multipart; no Date, Message-ID or Sender; an empty group; 8-bit
// Subject and body; a quoted display name with quotes inside.
inline std::string singlePartMessage()
{
    return crlf(
        "From: secretariat@cabinet.mssante.fr\n"
        "Reply-To: \"Cabinet \\\"Les Tilleuls\\\"\" <accueil@cabinet.mssante.fr>\n"
        "To: undisclosed-recipients:;\n"
        "Subject: Rappel \xE0 9h\n"
        "Content-Type: text/plain; charset=\"iso-8859-1\"; format=flowed\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Rendez-vous demain \xE0 9h.\n"
        "Merci.\n");
}

// No blank line and no body: the header runs to the end, without a final line break.
inline std::string headerOnlyMessage()
{
    return crlf(
        "Subject: Sans corps\n"
        "X-Note: pas de ligne vide");
}

// A multipart without a boundary parameter: no parts.
inline std::string emptyMultipartMessage()
{
    return crlf(
        "Subject: vide\n"
        "Content-Type: multipart/mixed\n"
        "Content-Disposition: inline\n"
        "Content-Language: fr\n"
        "\n"
        "no boundary parameter\n");
}

// A base64 message/rfc822 is not parsed as a message.
inline std::string encodedMessageMessage()
{
    return crlf(
        "Subject: joint\n"
        "Content-Type: multipart/mixed; boundary=b\n"
        "\n"
        "--b\n"
        "Content-Type: message/rfc822\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "U3ViamVjdDogeAoKeQo=\n"
        "--b--\n");
}

}  // namespace plexus::imap::test
