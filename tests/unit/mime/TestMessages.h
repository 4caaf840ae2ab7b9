// Helpers shared by the mime unit tests.
#pragma once

#include "mime/MessageStructure.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::mime::test {

// Test messages are written with "\n"; mail travels with CRLF.
inline std::string crlf(std::string_view text)
{
    std::string out;
    for (char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

inline std::string_view slice(std::string_view message, std::uint64_t offset, std::uint64_t size)
{
    return message.substr(offset, size);
}

inline std::string_view headerOf(std::string_view message, const BodyPart& part)
{
    return slice(message, part.headerOffset, part.headerSize);
}

inline std::string_view bodyOf(std::string_view message, const BodyPart& part)
{
    return slice(message, part.bodyOffset, part.bodySize);
}

// Most features at once: groups, 8-bit and encoded headers, X-MSS-*, nesting,
// an attached message with its own multipart, an XDM zip, preamble, epilogue.
inline std::string richMessage()
{
    return crlf(
        "From: Laboratoire <lab@labo.mssante.fr>\n"
        "To: Equipe: a@b.fr, b@b.fr;, \"Dupont, Jean\" <jean@c.fr>\n"
        "Subject: =?UTF-8?Q?R=C3=A9sultats?= \xE9t\xE9\n"
        "Date: Mon, 3 Jun 2024 10:00:00 +0200\n"
        "Message-ID: <rich@labo.fr>\n"
        "X-MSS-Patient-INS: 1234567890123\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\n"
        "\n"
        "preamble\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n"
        "\n"
        "--inner\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "Bonjour\n"
        "--inner\n"
        "Content-Type: text/html\n"
        "Content-Language: fr\n"
        "\n"
        "<p>Bonjour</p>\n"
        "--inner--\n"
        "--outer\n"
        "Content-Type: message/rfc822\n"
        "Content-Description: forwarded\n"
        "\n"
        "From: x@y.fr\n"
        "Subject: inner\n"
        "Content-Type: multipart/mixed; boundary=fwd\n"
        "\n"
        "--fwd\n"
        "\n"
        "forwarded text\n"
        "--fwd--\n"
        "--outer\n"
        "Content-Type: application/zip; name=IHE_XDM.ZIP\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"IHE_XDM.ZIP\"\n"
        "Content-ID: <zip@labo.fr>\n"
        "\n"
        "UEsDBBQAAAAIAA==\n"
        "--outer--\n"
        "epilogue\n");
}

}  // namespace plexus::mime::test
