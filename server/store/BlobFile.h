// Message blobs encrypted at rest with AES-256-GCM, written as a stream and
// read with random access. Include this header to use them.
//
// File format, version 1 (all integers big-endian):
//   header (49 bytes): "PLXB" | version u8 = 1 | segment size u32 (65536) |
//                      at-rest key id (8) | random file salt (32)
//   segments: ciphertext of segment-size plaintext bytes (fewer in the last
//             one, which is empty only for an empty blob) followed by a 16-byte tag
//   file key = HKDF-SHA256(at-rest key, salt, "plexus blob file key v1");
//   nonce of segment i = 4 zero bytes | i (u64); AAD = header | i (u64) | last (u8)
// The plaintext size follows from the file size alone (see blob::Layout).
#pragma once

#include "store/BlobError.h"
#include "store/BlobReader.h"
#include "store/BlobWriter.h"
