// Memory a session about to wait long (IMAP IDLE) can give back: free heap
// pages that the allocator keeps between live blocks (left by the many
// short-lived allocations of logins and SELECTs) until trimmed.
#pragma once

namespace plexus::net {

// Gives the allocator's free pages back to the kernel (malloc_trim), at most
// once a second for the whole process: many sessions start idling together.
void releaseFreeHeap();

}  // namespace plexus::net
