// The calling thread's stack, for sessions that wait long (IMAP IDLE): pages
// touched once by deep calls (TLS handshake, SQL parsing) stay resident for the
// life of the thread unless given back.
#pragma once

namespace plexus::net {

// Gives the pages of the calling thread's stack below the current frame back
// to the kernel (they come back zeroed if used again). Does nothing if the
// stack's bounds are unknown.
void releaseUnusedStack();

}  // namespace plexus::net
