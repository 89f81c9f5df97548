/*
 * uintripc.h — the shared-memory layout of UintrIpc, for C peers and for the native shim.
 *
 * This header is the single C description of what lives in a UintrIpc region. The C#
 * side mirrors it in lib/UintrIpc/Memory/RegionLayout.cs and lib/UintrIpc/Rings/RingLayout.cs;
 * test/UintrIpc.Tests/Layout proves both agree (through UintrIpc_LayoutValue below, and by
 * compiling a C peer against this file). Change both in the same commit, and bump
 * UIPC_LAYOUT_VERSION when a byte moves or the protocol changes so that an older peer breaks it.
 *
 * Everything is little-endian x86-64 / arm64, naturally aligned, and accessed with the
 * orderings stated per field:
 *   plain   = ordinary load/store, only by the owning side or before publication;
 *   acquire = __atomic_load_n(p, __ATOMIC_ACQUIRE)  (C#: Volatile.Read);
 *   release = __atomic_store_n(p, v, __ATOMIC_RELEASE) (C#: Volatile.Write);
 *   full    = a locked RMW or __atomic_thread_fence(__ATOMIC_SEQ_CST) (C#: Interlocked).
 *
 * A peer must not trust anything it reads from the region: every position, length and
 * offset written by the other side is checked against the layout (and, for positions,
 * against the reader's private copy, section 2c) before use.
 *
 * ------------------------------------------------------------------------------------
 * 1. Region
 * ------------------------------------------------------------------------------------
 *
 *   0                                  1024 (UIPC_REGION_HEADER_SIZE)
 *   +----------------------------------+-------------+-------------+----
 *   | uipc_region_header (+ part table)| part 0      | part 1      | ...
 *   +----------------------------------+-------------+-------------+----
 *
 * 1a. Backing. A memfd (shared by passing its descriptor, SCM_RIGHTS or inheritance) or a
 *   file under /dev/shm (shared by name, mode 0600 unless the creator asks otherwise; created
 *   unnamed and named only once whole, or else O_EXCL, 1b). The size is fixed at creation: the creator seals a memfd with F_SEAL_SHRINK |
 *   F_SEAL_GROW | F_SEAL_SEAL before publishing it, and an attacher refuses a memfd that lacks
 *   F_SEAL_SHRINK or F_SEAL_GROW (fcntl F_GET_SEALS), because whoever holds an unsealed one can
 *   truncate it under the mapping, and the next access to a lost page is a SIGBUS. A named file
 *   cannot be sealed: an attacher checks its size (fstat) against total_size, but a process
 *   with write access can still truncate it later. That residual risk is closed by not using
 *   named regions with untrusted peers: pass sealed memfds over the bootstrap socket instead.
 *   An attacher refuses a named region that another user owns unless told to trust that user.
 *
 * 1b. Creation. The creator sizes the file (zero-filled), writes every header field with
 *   plain stores, lays out the parts in table order (part i+1 starts at or after the end of
 *   part i, offsets multiples of UIPC_PART_ALIGNMENT, the first at or after header_size),
 *   initialises each part (plain stores), and writes `magic` LAST with release semantics.
 *   `epoch` is a random non-zero 64-bit value chosen each time a region is initialised: a
 *   peer that remembers an epoch can tell a re-created region from the one it knew.
 *   A named region is created unnamed where the kernel allows it: open("/dev/shm",
 *   O_TMPFILE | O_RDWR, mode) (then fchmod to the mode: open applies the umask), the creator
 *   lock (1f), size, initialisation and publication on that file, and only then its name:
 *   linkat(AT_FDCWD, "/proc/self/fd/<fd>", AT_FDCWD, "/dev/shm/<name>", AT_SYMLINK_FOLLOW)
 *   (no capability needed; EEXIST: the name is taken, handled as an O_EXCL create's EEXIST,
 *   1f "Stale names", and the link tried again). The name so never leads to a region that is
 *   not whole, and a creator that dies before the link leaves nothing (the kernel frees an
 *   unnamed file with its last descriptor and mapping). The OFD locks belong to the file, not
 *   to the name: those taken before the link hold after it. Where O_TMPFILE fails (EOPNOTSUPP,
 *   EISDIR or EINVAL on old kernels and file systems; any error) or /proc/self/fd/<fd> does not
 *   exist (/proc not mounted), or linkat fails other than with EEXIST (a seccomp filter, a
 *   file system without hard links: the unnamed region is dropped), the creator creates the name O_EXCL, takes the creator lock,
 *   then sizes, initialises and publishes in place (1f); so do creators of earlier versions of
 *   this library, with the same layout version: openers keep the checks of 1f "Open" for such
 *   files, which look the same as before.
 *
 * 1c. Attach. An attacher maps the whole file (its fstat size), waits (bounded) until it
 *   reads `magic` == UIPC_REGION_MAGIC with acquire semantics (0 means "not yet"; any other
 *   value is refused at once), then checks, before using any other field:
 *     layout_version == UIPC_LAYOUT_VERSION;   header_size == UIPC_REGION_HEADER_SIZE;
 *     total_size == the file size == the mapped size;   part_count <= UIPC_MAX_PARTS;
 *     epoch != 0;
 *     for each part i in table order: offset % UIPC_PART_ALIGNMENT == 0,
 *       offset >= (i == 0 ? header_size : offset[i-1] + length[i-1]) (in order, no overlap),
 *       offset <= total_size and length <= total_size - offset.
 *   Only then does it look inside a part, whose own rules (section 2, 3) it checks in turn.
 *   The header is immutable after publication except `state`: plain loads are enough.
 *
 * 1d. State. `state` moves READY -> CLOSED (release; readers acquire) when the region is shut
 *   down; nothing else changes after publication.
 *
 * 1e. Lifetime inside a process. A process unmaps a region only when nothing of its own uses
 *   it any more (the C# side counts leases: the region object, every ring, endpoint and
 *   blocking wait). A peer's death never invalidates our mapping. The C# side then replaces
 *   the shared mapping by a private, writable, zero-filled anonymous one of the same length
 *   (mmap MAP_FIXED) and unmaps that only once no ring object of the region can be reached:
 *   an access racing the release finds memory, never a hole. A store through one of the
 *   process's open claims lands there, not in the shared memory (the message is lost). Every
 *   ring call checks its ring's disposed flag before it reads the mapping, so nothing reads
 *   the placeholder as a ring; were a load to race it, zero is "not yet" in every ring's head
 *   word (a slot's sequence 0 on the first lap, 2d; a record's length 0, 2e).
 *
 * 1f. Role locks of a named region. A region under /dev/shm carries advisory byte-range locks
 *   of open file descriptions (fcntl F_OFD_SETLK / F_OFD_GETLK, Linux 3.15+) on its file, one
 *   byte each, l_whence SEEK_SET, l_len 1, l_pid 0; they lie beside the bytes (the mapping is not
 *   affected) and may lie past the end of the file:
 *     byte 0            UIPC_LOCK_CREATOR: the creator, exclusive (F_WRLCK), taken right after it
 *                       opened the file (unnamed, or the O_EXCL create, 1b) and before the file is
 *                       sized, held until it disposes the region (after it unlinked the name) or
 *                       its process ends;
 *     byte 1 + 2*ring   UIPC_LOCK_WRITER: a channel's writer, per channel object: exclusive when the
 *                       ring has one writer (SPSC), shared (F_RDLCK) by every writer of an MPSC ring;
 *     byte 2 + 2*ring   UIPC_LOCK_READER: the ring's one reader, exclusive.
 *   A channel's ring is ring 0. A lock is taken with F_OFD_SETLK, never waiting: a conflict means
 *   that another open file description (another process, or another channel object of the same
 *   name) holds the role, and the newcomer is refused before it touches the ring. The kernel drops
 *   the locks when the holder's open file description goes (its last descriptor and mapping), so
 *   also when the process dies; a holder releases them all (F_UNLCK, l_len 0) when it disposes the
 *   region, since its mapping may outlive the descriptor. Locks name no process (F_OFD_GETLK
 *   reports l_pid -1): nothing is ever signalled because of one.
 *   Open: a channel's opener opens the name with O_NOFOLLOW (as shm_open does: a symbolic link
 *   fails with ELOOP). A region linked once whole (1b) is published and locked when its name
 *   appears, and ENOENT means "not created yet" (or gone); the waits below are for files made
 *   the O_EXCL way. Once it finds the header published (1c) it checks the creator byte with
 *   F_OFD_GETLK (F_WRLCK): unlocked means the creator is gone, and a channel is not opened. While
 *   it waits for the header it reads, at each look, the file size (fstat) and then the creator
 *   byte: held, it waits on; unlocked with a size above 0 (sized under the lock, which is free now),
 *   it reads the magic once more (acquire) and, still 0, fails at once: nobody will publish it;
 *   unlocked and empty (an O_EXCL creator between its create and its lock, or one killed there),
 *   it fails once the file has stayed empty and unlocked for a grace (1 s in the C# side) since
 *   the byte was last seen held (a guess the unnamed creation of 1b never calls for: its name
 *   never leads to an empty file). A foreign creator that takes no lock is waited for as before, by openers
 *   that do not require a creator (the C# SharedRegion.OpenNamed).
 *   Stale names: a creator whose O_EXCL create or linkat (1b) fails with EEXIST opens the file (O_NOFOLLOW) and
 *   replaces it only if it is this user's regular file, it takes the creator lock (F_OFD_SETLK:
 *   nobody else holds it, so its creator is gone and no other creator is replacing it), the file
 *   then holds a published header of this layout version (pread: magic and layout_version) or
 *   was never published (empty, or its first 8 bytes zero: a creator killed while creating it,
 *   or one that lost the lock to us right after its create; with the lock ours nobody publishes
 *   it any more), and the name still leads to the same inode (stat vs fstat); then it unlinks the name, closes the
 *   file (dropping that lock) and creates (or links) again, twice at most. An O_EXCL creator whose new file's
 *   creator lock is taken by such a replacer in the instant after its create has lost the name,
 *   and so has one that, holding the lock, finds that the name no longer leads to its file (stat vs
 *   fstat: a replacer unlinked it and let go before our lock): it closes the file, unlinks nothing,
 *   and fails with EEXIST (an unnamed creator has no such instant: it links a file it has locked).
 *   Once the creator holds the lock and the name leads to its file, no replacer takes it; the creator removes the name at the end only while it still leads there. Anything else is left in place
 *   and the EEXIST names it.
 *   The reader of a single-writer ring reads the writer byte with F_OFD_GETLK at its wait's
 *   rate-limited liveness checks (section 4): free, after it was held or the ring was written,
 *   means the writer has gone. Not for MPSC rings, whose writers may come and go.
 *   A writer waiting for room reads the reader byte the same way (section 4, liveness): held
 *   means the reader lives, whatever its heartbeat does; free, its heartbeat decides (a killed
 *   reader may be restarted and take the role again). A region handed over a socket shares the sender's open file description: its receiver
 *   takes no lock, so the sender takes the writer role for the receiving writer before it sends.
 *   Locks are advisory: a process of the same user can take or hold any of them, which denies
 *   roles or creation (a denial of service); it gains no write it could not make to the file
 *   anyway.
 *
 * ------------------------------------------------------------------------------------
 * 2. Rings (part kinds UIPC_PART_SPSC_SLOTS .. UIPC_PART_MPSC_RECORDS)
 * ------------------------------------------------------------------------------------
 *
 * A ring part starts with a 512-byte control block, followed by the data area:
 *
 *   +0    uipc_ring_descriptor  (immutable after creation)
 *   +128  tail   u64  producer position (bytes for record rings, slots for slot rings)
 *   +136  unregistered u32  MPSC: non-zero once a producer claimed without a table entry (2f)
 *   +144  claim_end u64  SPSC record rings: at least the end of the producer's open claim (2g)
 *   +152  writers u32, writers_detached u32  channels: writer objects attached, and whether one
 *         detached (section 4b)
 *   +256  head   u64  consumer position
 *   +264  releasing u64  record rings: the head a release is zeroing up to (2e, 2g)
 *   +384  consumer line: heartbeat
 *   +512  data area, `capacity` slots of `slot_size` bytes, or `capacity` bytes (duplex slot
 *         rings, 2h: two control blocks, then the two rings' slots interleaved)
 *   then  MPSC only: the producer table, producer_slots entries of 128 bytes (2f), at
 *         producer_table_offset = align128(512 + data_length)
 *
 * Positions are free-running 64-bit counters; index = position & (capacity - 1). The
 * producer-owned and consumer-owned words are 128 bytes apart so that adjacent-line
 * prefetching cannot make them share traffic.
 *
 * 2a. Attach checks on the descriptor (plain loads; it is immutable):
 *     part length >= UIPC_RING_CONTROL_SIZE;   ring_kind == the part's kind;
 *     capacity a power of two, 2 .. 2^30 (slot rings) or 64 .. 2^30 (record rings);
 *     data_offset == UIPC_RING_CONTROL_SIZE;   data_length <= part length - UIPC_RING_CONTROL_SIZE
 *     (duplex slot rings: data_offset, data_length and the part length as in 2h instead);
 *     slot rings:   element_size > 0 and == the element both sides agreed on, element_type
 *                   0 or the attacher's own fingerprint (2i, when it has one),
 *                   slot_size == align8(8 + element_size) (+ 4 inside: a channel with
 *                   checksums, section 4a), max_message_length == element_size,
 *                   slot_pitch == 0 or slot_size (duplex: 2h), data_length == capacity * slot_size;
 *     record rings: slot_size == element_size == slot_pitch == 0, data_length == capacity,
 *                   1 <= max_message_length <= capacity / 8;
 *     MPSC rings:   1 <= producer_slots <= UIPC_MAX_PRODUCER_SLOTS, producer_table_offset ==
 *                   align128(data_offset + data_length), producer_table_offset + producer_slots *
 *                   UIPC_PRODUCER_ENTRY_SIZE <= part length;
 *     SPSC rings:   producer_slots == producer_table_offset == 0.
 *
 * 2b. Positions and their invariant. head and tail only grow, and stay below
 *   UIPC_MAX_POSITION (2^62): then position + 1 never reaches UIPC_SLOT_SKIPPED and
 *   position + capacity never overflows. A value at or above it is corruption. Record
 *   positions are multiples of 8. The invariant
 *       head <= P <= head + capacity
 *   holds at every instant for P = the producers' true position: the shared tail for record
 *   rings (an SPSC producer stores the tail before the lengths that publish) and for MPSC slot
 *   rings (claimed by CAS before anything is written); the SPSC slot producer's own position
 *   for SPSC slot rings, whose shared tail is stored after the sequences and may lag them, even
 *   behind head. An observer sees the invariant only in the order of its loads: a tail read
 *   before a head may already be behind it (others claimed and the consumer consumed in
 *   between), so check tail <= head + capacity with a head read after the tail, and
 *   head <= tail with a tail read after the head. At attach, read tail, head, tail again.
 *
 * 2c. Private positions. Each side keeps its own position in private memory and only
 *   publishes it (release); it never reads it back from the region, where a peer could have
 *   moved it:
 *     consumer: head, taken from the region once at attach (after the checks of 2b);
 *     SPSC producer: tail, taken once at attach (SPSC slot rings: extended over the slots
 *       already published, since the shared tail may lag, at most capacity slots);
 *     MPSC producer: the tail is shared by the producers, so it is read from the region; each
 *       producer keeps a floor, the highest tail it has claimed up to (it may also raise it to a
 *       checked tail it read, e.g. one it found the ring full at), and refuses a tail read
 *       after the floor that is below it (a tail moved back would make it overwrite pending
 *       messages).
 *   Every position read from the peer is checked against the private one on every use: a
 *   producer checks own_tail - capacity <= head <= own_tail; a consumer checks
 *   head <= tail <= head + capacity (tail read after its head, which is private and stable).
 *   A consumer that finds its ring empty has published every release, so the shared head
 *   must equal its own: where it is behind (a peer wrote it), the consumer publishes its head
 *   again (release). Otherwise a forged head that is consistent for the producers
 *   (tail - capacity) holds them back while the consumer waits for them, for good. Where it is
 *   ahead, it is published again too, but the lie may have done its harm: a producer that
 *   read it took bytes not read yet. On slot rings the consumer then finds a sequence a lap
 *   ahead (corrupt, 2d). Record headers carry no lap: the consumer takes such a record for
 *   the one it expected, its release zeroes the producer's record again, and it later waits
 *   at that header for good, as after a forged or erased header (2e). A producer catches the
 *   lie only when its next re-read of head finds its own tail more than a capacity ahead.
 *
 * 2d. Slot rings (fixed-size elements): slot i is at data + i * pitch, where pitch = slot_pitch,
 *   or slot_size where slot_pitch is 0 (every ring but a duplex one: 2h):
 *
 *   +0  sequence u64   == position + 1 once the element for `position` is published
 *   +8  element        element_size bytes, slot_size = align8(8 + element_size)
 *
 *   Producer (SPSC): if tail - head_cache >= capacity, reload head (acquire) and re-check;
 *     write the element (plain); sequence = tail + 1 (release); tail = tail + 1 (release).
 *   Producer (MPSC): floor (acquire), then t = tail (acquire), checked against the floor (a
 *     producer may also try its first CAS with t = floor, unloaded: a failed CAS returns the
 *     tail, checked likewise, and the stale intent it leaves is a CAS loser's, 2f);
 *     check capacity against head (acquire, 2c); claim = intent(t, n) in its table entry
 *     (release, 2f); CAS tail t -> t + n (full); floor = t + n (release); write the elements
 *     (plain); each sequence = position + 1 (release). A claim handed to the caller to fill in
 *     place (TryClaim) gets the claimed marker in its sequence
 *       UIPC_SLOT_CLAIMED | (generation & 0x3fffff) << 40 | entry index << 32 | ((position + 1) & 0xffffffff)
 *     (entry index UIPC_PRODUCER_NONE without an entry) while it is still unpublished and
 *     before its intent stops covering it: before the producer's next intent store or the end
 *     of its registration, whichever comes first, since its producer may claim again before
 *     it publishes, and then its intent no longer names this position. Until then the intent
 *     attributes it (2f b). A producer may write it at once (release), or defer it to that
 *     point: then CAS from the slot's previous value (below) to the marker (full fence, so
 *     ordered before the intent or unregistration that follows; a publish or skip of the claim
 *     cancels it), so that a claim published before the next one costs no marker store. A batch of n
 *     slots handed to the caller (TryClaim(count)) is one claim (one intent, one CAS t -> t + n)
 *     whose every slot gets its own claimed marker by the same rule: all written at once, or all
 *     deferred to that point (each by such a CAS; its slots are published or skipped together, so
 *     none is marked after it completed); its abort skips each slot as below. A consumer that finds
 *     such a batch unmarked attributes it by the intent (2f b), and skips a dead owner's whole batch.
 *   Producer (SPSC), batch: the elements and each sequence as above, then ONE tail store
 *     (release) for the batch; an abort writes nothing.
 *   Consumer: s = slot[head].sequence (acquire); s == head + 1 means ready, read the
 *     element (plain), then head = head + 1 (release) to give the slot back.
 *     Any other value is "not yet" only if it is the slot's previous value: 0 on the first
 *     lap (head < capacity), otherwise (head + 1 - capacity), possibly | UIPC_SLOT_SKIPPED;
 *     or (MPSC) a claimed marker whose low 32 bits are (head + 1); anything else is corruption. A consumer polls the slot it reads next, so one message
 *     costs one cache-line transfer.
 *   Skip marker: UIPC_SLOT_SKIPPED | (position + 1), MPSC only (in an SPSC ring it is
 *     corruption). Written by a producer that aborts its claim (CAS from the slot's previous
 *     value or its claimed marker, so that it loses to nothing but an unblock of the same
 *     claim), or by the consumer skipping a dead producer's claim (2f): CAS from the value it
 *     judged to the skip marker, so a marker or publish that came meanwhile wins. A
 *     consumer that finds UIPC_SLOT_SKIPPED | (head + 1) with head < tail steps over it:
 *     head = head + 1 (release); a marker at or beyond tail is forged. An SPSC producer's
 *     abort writes nothing (its tail has not moved).
 *
 * 2e. Record rings (variable-length byte messages): records are 8-byte aligned:
 *
 *   +0  length  i32   record length including this header; 0 = nothing yet;
 *                     negative = claimed, being written (MPSC); positive = committed
 *   +4  type    i32   message type (>= 0), UIPC_RECORD_PADDING (-1) for padding/aborted
 *   +8  payload length - 8 bytes; the record occupies align8(length) bytes
 *
 *   A record never wraps: when it would not fit before the end of the data area, the
 *   producer claims the remainder as well and writes a padding record there whose length is
 *   exactly the bytes to the end (capacity - index, a multiple of 8); the real record starts
 *   at index 0. max_message_length (payload bytes) <= capacity / 8.
 *   Every byte outside [head, tail) is zero, so a header reads 0 until its producer
 *   writes it: producers rely on that, and the consumer polls the header, not the tail.
 *   Producer (SPSC): check capacity against head (acquire, 2c); write type and payload
 *     (plain); tail += padding + aligned length (release); padding header, then length =
 *     +len (release). The tail goes first so that head <= tail holds for every observer.
 *     The check uses a private copy of head and re-reads head only when the copy shows no room.
 *     A full ring: the consumer gives bytes back per record (a head store each), so a producer
 *     that re-read head for every claim took the head line from the consumer once per record,
 *     just before the consumer stored it again, and found room for one record each time (the
 *     full-ring lockstep: two line transfers per record on top of the data). So when a re-read
 *     leaves less than min(capacity / 8, UIPC_RECORD_NEARLY_FULL_ROOM) bytes free after a
 *     claim of at most UIPC_RECORD_PAUSE_MAX_CLAIM bytes (or refuses it), the producer's next
 *     re-read first waits
 *     UIPC_RECORD_HEAD_RELOAD_PAUSE_SPINS spin-loop hints (about 0.1-1 us, by CPU); meanwhile the consumer stores
 *     head undisturbed and one re-read then covers many records. Nothing else changes: the
 *     re-read after the pause is the same acquire load, checked as above, and a claim that fits
 *     then succeeds (a claim is never refused while the ring has room for it); the pause only
 *     delays the claim after one that found the ring nearly full (at such a ring a message waits
 *     for the consumer anyway; after an idle spell, once, the first claim whose cached head is
 *     too old). The flag and the pause are private to the producer: no store, no order and no
 *     check of section 2 changes, and a consumer cannot tell a pausing producer from a slow one. A
 *     producer's choice, invisible to the consumer; MPSC producers do not pause (measured no
 *     gain).
 *   Producer (MPSC): floor, tail and intent as for MPSC slots (2d); CAS tail (full); a failed
 *     CAS withdraws the intent (claim = 0, release, 2f) before the producer tries again or finds
 *     the ring full; padding header (type, then length release); the claimed header as ONE
 *     64-bit store (release):
 *     length = -len, type = the claimed marker
 *       INT32_MIN | (generation & 0x3fffff) << 8 | entry index   (index UIPC_PRODUCER_NONE without an entry)
 *     followed by a store-store fence, so the marker is visible before any payload byte;
 *     payload, then type (plain); length = +len (release).
 *   Abort: the record becomes padding of the same length: type = UIPC_RECORD_PADDING (plain),
 *     then length = +len (release; MPSC: CAS from -len, so it loses to nothing but an unblock
 *     of the same claim). An aborted record's padding is no longer than
 *     align8(8 + max_message_length). An SPSC producer publishes it like a record (tail first).
 *   Batch (TryClaimBatch): one range claimed as one record would be (padding to the end first
 *     when it would cross it; MPSC: one intent, one CAS), records appended into it in place,
 *     each header holding -len until the commit (SPSC: with its type; MPSC: with the claimed
 *     marker, one 64-bit store, then store-store, as above). SPSC, a producer's choice: a record
 *     appended to a range of at most 1 KiB may have no header before the commit (the library's
 *     single appends), which stores length and type as one 64-bit store (release); the header reads 0,
 *     "not yet", until then (the producer keeps the headers privately). A producer may store
 *     zeroes into its claimed range before appending (the library's and the C ring's take a
 *     range of at most 1 KiB so): the bytes are zero already. MPSC: until a record is appended
 *     at its start, the range's first header holds the claimed marker too, with length
 *     -min(range, align8(8 + max_message_length)) (the same store; at the claim, or at the latest
 *     before the producer's next intent store): the producer may claim again while the batch is
 *     open, its intent then no longer covers the range, and a dead producer's stale intent
 *     alone would make that live batch look dead (2f b). Commit: SPSC: tail = end of the
 *     appended records (release, once), then each length = +len (release; a header not written
 *     at the append: length and type in one store); MPSC: per record
 *     type, then length = +len (release), or both as one 64-bit store (release; the library's
 *     batch commit: the claimed marker gives way to the type in the same store), then the
 *     unused rest of the range becomes padding in pieces as for the unblock below. Abort: SPSC: zero the range again (nothing was
 *     published); MPSC: each record still marked by its producer becomes padding (CAS from
 *     -len), the unwritten rest padding in pieces. SPSC producer object closed with a claim or
 *     batch open: its bytes are zeroed as by an abort (they lie beyond the tail, where the next
 *     producer's records would leave them as headers the consumer reads). MPSC: nothing is
 *     written; the consumer skips the marked records and the unwritten rest as claims of an
 *     ended registration (2f a, b).
 *   Consumer: len = length (acquire); <= 0 means not yet; validate 8 <= len, index +
 *     align8(len) <= capacity; type >= 0 with payload <= max_message_length, or type -1
 *     (padding) that fills exactly to the end or is no longer than the longest record
 *     align8(8 + max_message_length) (an aborted claim); a batch consumes at most
 *     capacity bytes. Read; then release the batch: releasing = head + consumed (release),
 *     store-store fence, zero the consumed bytes (plain) so a later lap never sees stale
 *     headers, head = releasing (release). "Consumed" means released: once releasing covers a
 *     record, no consumer will read it again (2g).
 *   MPSC unblock by timeout (TryUnblock(stalledFor), the manual path: only safe when the
 *     caller knows the producer is dead): a record at head with length -len becomes padding
 *     of len; with length 0 while tail > head, the consumer scans for the next non-zero header
 *     (within the lap and the tail), re-checks that the gap is still zero, and fills the gap
 *     with padding records no longer than align8(8 + max_message_length) each (one record when
 *     it reaches the end of the data area), the one at head written last. The scan is sound
 *     because every non-zero word in [head, tail) after a zero header is a header: producers
 *     write the marker before the payload, and a consumer killed while zeroing leaves
 *     releasing behind, so its successor never starts inside half-zeroed bytes (2g).
 *   MPSC skip of a dead producer's claim: section 2f.
 *
 * 2f. Producer table (MPSC rings): whose claim is it, and is that producer dead?
 *
 *   The consumer must never skip a live producer's claim, however slow, and should skip a
 *   dead one's as soon as the death is known. Every producer thread registers once, in an
 *   entry of the ring's producer table (struct uipc_producer_entry), and before each claim CAS
 *   stores its intent there, so that every claimed, unpublished position is attributable:
 *     owner  u64  pid (low 32 bits) | generation (high 32). pid 0: free; pid UIPC_PRODUCER_REGISTERING:
 *                 being set up. Registration: CAS owner from (0 or a dead pid, g) to
 *                 (UIPC_PRODUCER_REGISTERING, g + 1) (full); pid_namespace, claim = 0 (plain);
 *                 owner = (pid, g + 1) (release). Unregistration (the producer object is closed,
 *                 or its thread has exited: a producer may end an exited thread's registration
 *                 when another thread registers, the exited thread's deferred markers first; no
 *                 other thread can complete that thread's claims;
 *                 a claim still open then belongs to a dead registration and is skipped, so its
 *                 deferred marker is written first, 2d; a record batch's unwritten rest by the
 *                 ended registration's intent, b; a claim taken while the object closes, which
 *                 the close did not see, is marked by its own thread while the memory is still
 *                 mapped for it: the .NET claim sees the close before it returns (the close's
 *                 process-wide barrier precedes its look), marks and fails; its publish or abort
 *                 then write nothing else. An ended registration's intent attributes no slot
 *                 claim (b), so a marker lost with the mapping stalls the consumer until the
 *                 manual unblock): owner = (0, g) (release).
 *     claim  u64  the intent of the producer's latest claim attempt: (t & 0xffffffff) | n << 32
 *                 for the CAS tail t -> t + n (slots; records: n = the padding + record bytes).
 *                 Written only by the entry's thread, release, before the CAS; the CAS (full
 *                 fence) makes it visible before the claim. It "covers" position p when
 *                 (uint32)(p - t) < n. A slot producer that finds the ring full withdraws it: claim = 0
 *                 (release; its open claims are marked or published by then, 2d), since the
 *                 intent of a failed CAS may cover another producer's claim, and while the ring
 *                 stays full (the consumer waiting at that claim) it would store no other: a dead
 *                 winner's unmarked claim would never be skipped (b). A record producer withdraws
 *                 it when its CAS fails instead (claim = 0, release, before its next intent store
 *                 or its return), and leaves it alone when it finds the ring full: a failed CAS's
 *                 intent covers only the winner's claim (the producer's own claims lie before the
 *                 tail it read), while the intent a full ring finds in place is its last successful
 *                 claim's, which attributes the first unwritten header of a batch the producer still
 *                 holds (2e: nothing marks it before an append); withdrawing that one would let a
 *                 dead producer's stale intent there alone cover the live batch, and the consumer
 *                 skip it. A failed CAS's intent is withdrawn, never replaced by the last claim's
 *                 (a producer keeps no copy of it): a producer that claims while its batch is open
 *                 has uncovered that batch with its new intent already, which is why the batch's
 *                 start carries a marker (2e); its first unwritten header after an append is
 *                 reached only once that marked record is committed or its producer dead (or its
 *                 registration ended, its marked records were skipped, and its last intent still
 *                 covers the batch, b).
 *     pid_namespace u64  the inode of the producer's /proc/self/ns/pid (0: unknown).
 *   A producer whose registration fails (table full of live entries) sets `unregistered`
 *   (+136, release) before its first claim and marks with entry index UIPC_PRODUCER_NONE; C
 *   peers that do not implement the table must do the same.
 *   Choosing an entry: a registering producer takes a free entry whose intent ends at or before
 *   head first, then one whose producer is dead (below) and whose intent ends at or before head
 *   (all its claims are consumed), then any free one: a free entry's intent may still attribute
 *   the rest of a record batch its object was closed with (b), which a new registration's
 *   claim = 0 would leave to the manual unblock.
 *
 *   A producer is known dead when the consumer, in the same pid namespace (pid_namespace equal
 *   to its own and non-zero), gets ESRCH from pidfd_open(pid) or sees that pidfd readable (the
 *   process exited). A pid read from the region is only used to observe, never to signal. A
 *   registration that ended (owner no longer (pid, generation)) is dead too: its ring object
 *   was closed or its entry reclaimed after its death. Anything else counts as alive (other
 *   namespace, no pidfd_open, a reused pid naming a live process): the claim waits.
 *
 *   Consumer, when the slot or record at head is not published while tail > head:
 *     a. A claimed marker (2d, 2e) names its producer: skip when that registration is dead.
 *     b. No marker (0 or the previous value): the owner is between its CAS and its marker or
 *        publish, so its own intent still covers head. Unless `unregistered` is set, read every
 *        registered entry's owner, claim, owner again (acquire; equal owners make the claim
 *        theirs); skip only when at least one intent covers head and every entry whose intent
 *        covers head is dead (a loser of the CAS race may cover head too; the winner is among
 *        them). An ended registration's intent (pid 0) counts here only on record rings, only
 *        past the claim's first header (head != t and head not at a lap start, index 0), and only
 *        right after a claimed record of that same registration (its marker's tag: entry index and
 *        generation) that this consumer just turned into padding as a dead producer's: there a
 *        zero header is the unwritten rest of a batch its object was closed with, which the
 *        producer's thread appends to no more. At a first header, and on slot rings, it claims
 *        nothing for (b): a claim taken on another thread while the object closed may be between
 *        its CAS and its first header or marker. Nor elsewhere: an intent holds 32 bits of a
 *        position, so an ended registration's last intent covers positions again every 2^32
 *        bytes, where a live producer's batch may be committing (its intent moved on to a claim
 *        after the batch) and the intent's end may lie past records already committed. Then
 *        re-read the head slot or header (acquire):
 *        a marker or publish that came meanwhile cancels the skip.
 *     c. Slot rings: no marker, `unregistered` clear and no intent covers head, not even the
 *        last one of an ended registration (pid 0; a claim taken while its object closed is
 *        still published, 2d): no producer won the position (the winner covers it until it
 *        publishes or marks it), so a peer moved the tail forward over positions nobody
 *        claimed. After the same re-read, skip that one slot; the next position is judged on
 *        its own. (Record rings leave such a gap to the manual unblock: their batches may
 *        leave an unwritten header uncovered.)
 *     Skipping: slots: CAS from the value judged to UIPC_SLOT_SKIPPED | (position + 1), for every
 *     position up to the smallest end of the dead intents (b) or the one slot (a, c). Records: (a)
 *     padding of len; (b) padding over [head, smallest end of the dead intents), pieces as for
 *     the manual unblock, split at the end of the data area, the piece at head last.
 *   Why this is safe against a lying peer: a producer that forges its own entry or marker can
 *   make the consumer skip that producer's own claim (its own message), or wait for it as if
 *   it were alive until the manual unblock; it cannot make another live producer's claim look
 *   dead, because the winner of a position always covers it with a marker or its own intent,
 *   and a skip needs every covering producer dead. A forged intent in a live producer's entry
 *   only delays (until that producer stores its next, or the manual unblock; a record producer's
 *   withdrawal after a lost CAS reads nothing back). Costs: one release store of the intent per
 *   claim (to a line only that producer writes; records: one more per CAS it lost); the marker
 *   shares the claim's header store
 *   (records), or costs one CAS per slot of an in-place slot claim (single or batch) that is still
 *   open when its producer claims again or closes (deferred, 2d; otherwise one store per slot).
 *
 * 2g. Restart. A process that attaches takes the positions from the region once (2b, 2c):
 *   a restarted consumer resumes at head; on record rings at releasing instead when
 *   head < releasing <= tail (read after head), releasing - head <= capacity and releasing is
 *   a multiple of 8: its predecessor died while zeroing a released batch, and the successor
 *   finishes the zeroing and stores head = releasing (release) before it reads. What a consumer
 *   released is never delivered again; a message handled but not yet released (the consumer
 *   died between its handler and the release) is delivered again to the next consumer. A
 *   restarted MPSC producer registers anew; its predecessor's open claims are skipped as
 *   claims of a dead producer (2f). A restarted SPSC slot producer extends the tail over the
 *   published slots (2c). A restarted SPSC record producer zeroes what is not zero in
 *   [tail, end) before its first write or claim (head: acquire, checked as in 2c): a
 *   predecessor killed with a claim open left headers and payload there (2e), which the consumer
 *   would read as headers where the new records end elsewhere. end = claim_end when
 *   claim_end <= head + capacity (unsigned: a negative value is beyond), else head + capacity (a
 *   forged or absent word costs the whole free area, never a byte outside it); claim_end <= tail
 *   clears nothing. claim_end (+144, on the producer's line) is stored by the SPSC record
 *   producer before it writes any byte beyond the tail (a record's type and payload before its
 *   publish, a claim, a batch, padding): whenever a claim's end exceeds the value it stored last,
 *   it stores that end plus a slack (the library: 4096 bytes), so most claims store nothing. A
 *   plain store: only a producer that attaches after this one died reads it, and every store a
 *   killed process retired lands; it need only come before the claim's stores in program order.
 *   A producer starts with no value stored (its first claim stores). A region that was re-created has a new epoch (1b): a peer that
 *   remembers positions from before compares the epoch first.
 *
 * 2h. Duplex slot rings (part kind UIPC_PART_DUPLEX_SLOTS): two SPSC slot rings in one part
 *   whose slots interleave, so that slot k of ring 0 and slot k of ring 1 share one cache line
 *   where both fit in 64 bytes. A request/response exchange in lockstep (one outstanding
 *   request, as a synchronous call has) then moves one line per round trip instead of two:
 *   the answer is written into the line that carried the request.
 *
 *     +0     uipc_ring_control of ring 0 (descriptor, tail, head, heartbeat)
 *     +512   uipc_ring_control of ring 1
 *     +1024  data: capacity lines of `pitch` bytes, pitch = align64(slot_size_0 + slot_size_1)
 *            slot k of ring 0 at data + k * pitch, slot k of ring 1 at data + k * pitch + slot_size_0
 *
 *   Each ring is an SPSC slot ring in every other respect (2b-2d, 2g: positions, sequences,
 *   private positions, validation, restart), with its own tail, head and heartbeat in its
 *   own control block; descriptor r sits at part + 512 * r and its offsets count from there:
 *     ring_kind == UIPC_PART_DUPLEX_SLOTS;  capacity equal in both, a power of two, 2 .. 2^30;
 *     slot_pitch == pitch in both (never 0), pitch == align64(slot_size_0 + slot_size_1);
 *     ring 0: data_offset == UIPC_DUPLEX_CONTROL_SIZE (1024);
 *     ring 1: data_offset == UIPC_RING_CONTROL_SIZE + slot_size_0 (so data + k * pitch is its slot k);
 *     data_length == (capacity - 1) * pitch + slot_size (from its first slot to the end of its last);
 *     part length >= UIPC_DUPLEX_CONTROL_SIZE + capacity * pitch;
 *     element_size, slot_size, max_message_length as for any SPSC slot ring (2a), each ring its own;
 *     producer_slots == producer_table_offset == 0 (single producer each way).
 *   An attacher checks both descriptors whichever ring it uses (ring 1's slots lie where ring 0's
 *   slot size puts them). Ring 0 carries requests, ring 1 responses (section 5).
 *
 * 2i. Element type fingerprint (element_type, descriptor offset 56). A slot ring's creator may
 *   record which element type it declared, so that an attacher with another type of the same
 *   size is refused instead of reinterpreting the bytes. 0 = not recorded: C creators, rings
 *   made before the field existed, and every record ring; an attacher accepts 0 always, and
 *   compares only when both its own fingerprint and the descriptor's are non-zero (a ring's
 *   element_size check, 2a, applies either way). The fingerprint of a type:
 *     name = the type's full name without assembly qualification, its namespace, nesting
 *            ('+' between nested types) and arity as .NET spells it ("System.Int64",
 *            "My.Outer+Point"); a constructed generic type is its definition's name followed by
 *            '[', its arguments' names (by this same rule) separated by ',', and ']'
 *            ("My.Pair`2[System.Int32,System.Double]");
 *     h = FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over the UTF-8
 *         bytes of name, then over the 4 bytes of the element size (u32, little-endian);
 *     a result of 0 is recorded as 1 (0 means "not recorded").
 *   A guard against mistakes, not a security check: the peer is untrusted anyway and every
 *   shared value stays validated as elsewhere; a forged fingerprint can only refuse a type or
 *   admit one of the right size, which element_size already bounds. Immutable: plain load.
 *
 * ------------------------------------------------------------------------------------
 * 3. Wait block (part kind UIPC_PART_WAIT_BLOCK): the wake-up protocol of one consumer
 * ------------------------------------------------------------------------------------
 *
 * A producer makes a system call only when the consumer has announced that it sleeps. One
 * consumer (one thread at a time) per wait block; any number of producers. Zero-filled
 * memory is the initial state (consumer AWAKE, counters 0).
 *
 * Who writes what (struct uipc_wait_block):
 *   consumer_state  consumer: AWAKE -> SLEEPING and back to AWAKE, each with a full fence
 *                   (xchg); producers: SLEEPING -> AWAKE by CAS (full). Any value other than
 *                   UIPC_CONSUMER_AWAKE counts as sleeping (a producer CASes exactly the value it
 *                   read to AWAKE and rings once, which also repairs a corrupt word).
 *   wake_word       producers only, atomic increment (full); the consumer reads it (acquire).
 *   doorbell_kind   enum uipc_doorbell_kind: the creator of a channel region writes it before
 *                   publishing the region; the consumer rewrites it (release) when it changes.
 *   channel_flags   channel regions: written by the creator before publication, then immutable
 *                   (plain loads; section 4a). 0 in wait blocks outside channel regions.
 *   consumer_pid    the consumer (release); diagnostics and the signal doorbell (below).
 *   consumer_tid    the signal doorbell's receiver (release, after consumer_pid); 0 = none.
 *   sleeps, timeouts, wakeups_seen        consumer only: plain read + release store.
 *   wakeups_sent, wakeups_suppressed      producers: one producer -> plain read + release
 *                   store; several producers -> atomic add. 128 bytes from the consumer's line.
 *
 * Consumer, when the ring is empty (after spinning, if it spins):
 *   C1. if doorbell_kind or consumer_pid changed: store them (release).
 *   C2. token = wake_word (acquire)                     futex doorbell: BEFORE C3.
 *   C3. xchg(consumer_state, SLEEPING)                  full fence: the announcement.
 *   C4. re-check the ring and the completion state (acquire loads, section 2 and below);
 *       if there is work, go to C6 without blocking.
 *   C5. block in the doorbell, ALWAYS with a timeout:
 *         futex:   FUTEX_WAIT(&wake_word, token, timeout), not FUTEX_PRIVATE_FLAG (returns at
 *                  once with EAGAIN if a producer incremented the word after C2);
 *         eventfd: poll(POLLIN) then read (resets the counter) with preadv2(RWF_NOWAIT): a
 *                  producer shares the file description, can clear O_NONBLOCK and take the
 *                  count between the poll and the read (plain read(2) only on EOPNOTSUPP);
 *         signal:  sigtimedwait on the blocked signal, then drain pending instances;
 *         none:    nothing to block in: yield for a short slice (and skip C3 and C6).
 *   C6. prev = xchg(consumer_state, AWAKE)              full fence. The consumer is the one
 *       that sets the state back to AWAKE after every announcement. prev != SLEEPING means a
 *       producer took this sleep over (P4) and rings (or rang) exactly once for it.
 *   C7. if it blocked in C5: sleeps += 1, then timeouts += 1 or wakeups_seen += 1.
 *   Either way it re-checks the ring: wake-ups may be spurious or coalesced.
 *
 * Producer, after each publish (or once after a batch):
 *   P1. publish into the ring (section 2: release stores).
 *   P2. full fence (__atomic_thread_fence(__ATOMIC_SEQ_CST); a locked RMW also serves).
 *   P3. s = consumer_state (acquire). s == AWAKE: wakeups_suppressed += 1, done.
 *   P4. CAS(consumer_state, s -> AWAKE) (full). Failed: another producer rings, or the
 *       consumer woke: wakeups_suppressed += 1, done. Exactly one producer wins each sleep.
 *   P5. ring the doorbell once:
 *         futex:   atomic increment of wake_word (full), then FUTEX_WAKE(&wake_word, INT32_MAX)
 *                  (all waiters: one consumer per block, so "all" is that one thread);
 *         eventfd: write(fd, 1) (8 bytes), fd received from the consumer; EAGAIN = already set;
 *                  the consumer shares the file description and can clear O_NONBLOCK: then
 *                  write only if poll(POLLOUT, 0) reports POLLOUT (none: the counter is at
 *                  2^64-2, or at 2^64-1 through a kernel completion (POLLERR): set);
 *                  the flag can still be cleared between that check and the write, so a
 *                  write that waits behind a full counter is freed by the producer process
 *                  itself: it reads the counter without waiting (preadv2 RWF_NOWAIT) on its
 *                  own duplicate, which wakes the write (C#: JammedEventFdWrites);
 *         signal:  tgkill (rules below); none: nothing.
 *   P6. AFTER the ring returned: wakeups_sent += 1 (the signal teardown relies on it).
 *   Note: P2 needs a full fence, not a fence instruction: a locked RMW on ANY line is one
 *   (x86: any lock-prefixed instruction; .NET: every Interlocked operation; elsewhere an RMW
 *   only where the platform documents it as a full barrier). Several producers may therefore
 *   fold P2 into their counter: wakeups_suppressed += 1 (atomic) first,
 *   then P3 (AWAKE: done), P4 (failed: done, already counted); the P4 winner does P5, P6
 *   and then wakeups_suppressed -= 1 (atomic). Each publish is counted once either way:
 *   wakeups_sent + wakeups_suppressed == wake checks once producers are quiet (while a
 *   winner rings, wakeups_suppressed may be one too high; the sum never falls short).
 *
 * Why no wake-up is lost (Dekker): the consumer stores SLEEPING, fences, loads the ring (C3,
 * C4); the producer stores the message, fences, loads the state (P1-P3). With both fences at
 * least one side sees the other's store: the consumer finds the message, or the producer
 * finds SLEEPING (both may happen: one spurious wake-up). A ring between C4 and C5 is not lost:
 * the futex word differs from the token, an eventfd or a pending signal stays set. And every
 * wait is bounded, so even a bug costs one timeout, never a hang.
 *
 * Signal doorbell: real-time signal UIPC_SIGNAL_DEFAULT_OFFSET above SIGRTMIN (44 with glibc,
 * the seed design's number) unless both sides agree on another in SIGRTMIN + 1 .. SIGRTMAX
 * (SIGRTMIN itself is the .NET runtime's activation signal). The receiving thread blocks it
 * (pthread_sigmask, that thread only), never installs a handler, publishes consumer_pid then
 * consumer_tid, and takes it with sigtimedwait. A producer sends only tgkill(pid, tid, sig),
 * never a process-directed signal, and never to a target it has not checked:
 *   - pid must be the consumer's process as a trusted source names it (the peer of the
 *     bootstrap connection: the pidfd getsockopt(SO_PEERPIDFD) returns, pinned at connect, whose
 *     fdinfo Pid must equal SO_PEERCRED's pid, or -1 once reaped; before Linux 6.5,
 *     pidfd_open(SO_PEERCRED pid); a pidfd the consumer handed over, a child the producer
 *     started, or the producer's own process); a consumer_pid that differs is refused (no signal);
 *   - to its own process, only a thread that hosts a live receiver of that signal;
 *   - nothing once the consumer's pidfd reports that it exited (its pid may be reused).
 *   tgkill refuses a tid outside that process. Residual risk: a peer that can write the wait
 *   block can direct the signal at another thread of the consumer's own process.
 * Teardown of a receiver: consumer_tid = 0 (CAS from its tid), wait (bounded) until
 * wakeups_sent has caught up with the sleeps producers took over (C6), drain, then unblock.
 *
 * ------------------------------------------------------------------------------------
 * 4. Channel regions (a ring + a wait block: lib/UintrIpc/Channels)
 * ------------------------------------------------------------------------------------
 *
 *   region_kind  UIPC_REGION_CHANNEL_SLOTS ("UCHS") or UIPC_REGION_CHANNEL_MESSAGES ("UCHM")
 *   part 0       the ring, tag 0: UIPC_PART_SPSC_SLOTS or UIPC_PART_MPSC_SLOTS (slots), or
 *                UIPC_PART_SPSC_RECORDS or UIPC_PART_MPSC_RECORDS (messages: record type >= 0
 *                is the application's message type)
 *   part 1       the wait block, tag 0, doorbell_kind and channel_flags set by the creator
 *                before publication (channel_flags: section 4a)
 *   An attacher finds both by kind and tag, and refuses an unknown doorbell_kind.
 *
 * Completion: the region header's `state`, UIPC_STATE_READY -> UIPC_STATE_CLOSED by CAS (full
 * fence), by any producer, followed by the producer's wake check (P2-P6) so a sleeping consumer
 * sees it. Completion and writes are linearizable:
 *   - single producer (SPSC rings): load state (acquire) before writing; CLOSED: refuse.
 *   - several producers (MPSC rings): claim the position first (the CAS on the tail), THEN load
 *     state (acquire; the CAS was the fence). CLOSED: abort the claim (slots: sequence =
 *     UIPC_SLOT_SKIPPED | (position + 1); records: padding), run P2-P6, and refuse the write.
 *     Otherwise write and publish: the write counts, and the consumer will read it.
 *   - consumer: load state (acquire) BEFORE the ring. The end of the channel is state == CLOSED
 *     and head == tail with the tail loaded after the state (claims made before the completion
 *     are published or aborted first; aborted claims are consumed like any skip or padding).
 *     The end, once seen, stays: every claim after it is aborted, so a consumer latches it
 *     rather than reading a late claim's tail as "not drained yet".
 *
 * Liveness: the ring's consumer_heartbeat_ms (section 2, +384) belongs to the channel's
 * consumer: 0 = no consumer attached yet; > 0 = CLOCK_MONOTONIC milliseconds, stored (release)
 * at least every 100 ms while the consumer object lives, whether or not it reads;
 * UIPC_HEARTBEAT_DETACHED = the consumer was disposed. A producer waiting for room judges it
 * with its OWN clock: gone when it reads DETACHED, or when the value has not changed for its
 * peer timeout since the producer last saw it change (so neither a peer's clock nor a forged
 * value can do more than make it wait that long). A peer known by a pidfd (SO_PEERPIDFD of the
 * bootstrap connection, as above) is gone when the pidfd turns readable, or (a consumer) when its
 * heartbeat reads DETACHED; a heartbeat that stands still does not make it gone while its pidfd
 * says it runs (a slow process is not a dead one: the producer's own wait timeout bounds that
 * wait). Likewise a consumer of a named region whose reader role lock (1f) is held lives. The
 * still heartbeat is for consumers that neither a pidfd nor a held role lock names (a region
 * attached from a descriptor outside a bootstrap; a named region whose reader role is free), except
 * that a named region whose reader role lock, seen held since the producer attached, and whose
 * creator lock (1f) are both free has no consumer and will get none (an opener refuses it, a new
 * creator makes a new region): gone at once. A reader role never seen held is no such verdict: a
 * process that opened the name while the creator lived may take it after the creator left. A consumer whose known producer
 * processes have all exited ends its waits with an error once the ring is drained; a wait parked
 * in the doorbell then is woken by the consumer's own process (its watch of the pidfds rings the
 * consumer's doorbell), not left to its park slice.
 *
 * 4a. Message checksums (optional, off by default). The wait block's channel_flags holds
 *   UIPC_CHANNEL_CHECKSUMS when every message of the channel carries a CRC-32C of its content,
 *   so that a reader detects payload corruption (it detects corruption, not forgery: whoever
 *   can write the ring can compute a valid checksum). The creator writes channel_flags (plain,
 *   before publication, immutable after); an attacher follows it and refuses a word with any
 *   bit outside UIPC_CHANNEL_KNOWN_FLAGS, and a flag that does not match the ring (below).
 *
 *   The checksum is CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, the SSE4.2 crc32
 *   instruction): initial value 0xFFFFFFFF, final xor 0xFFFFFFFF (so CRC-32C("123456789") ==
 *   0xE3069283), stored as a little-endian u32. uipc_crc32c below is the reference.
 *
 *   Slot channels: the checksum is the LAST 4 bytes of the slot, at slot + slot_size - 4, and
 *     covers the element_size bytes of the element (slot + 8 ..). The slot is sized for it:
 *     slot_size == align8(8 + element_size + 4) (element_size is the element's own size); with
 *     the flag clear slot_size == align8(8 + element_size) (2a). An attacher refuses a flag
 *     whose slot size does not match (when both formulas agree either reading holds).
 *   Message channels: the checksum follows the message bytes inside the record: a message of n
 *     bytes is a record of length 8 + n + 4, its type at +4, the message at +8, the checksum at
 *     +8 + n (unaligned: copy it with memcpy). It covers the 8-byte record header as committed,
 *     the length word (i32, the positive value 8 + n + 4) then the type word (i32), followed by
 *     the n message bytes: uipc_message_crc32c(length, type, message, n). max_message_length of
 *     the ring counts the 4 bytes (a channel's longest message is max_message_length - 4), so an
 *     attacher refuses the flag on a ring with max_message_length < 4; a committed record of
 *     type >= 0 shorter than 8 + 4 is corrupt. Padding records carry no checksum.
 *   Producers compute the checksum before publishing (the sequence, or length = +len): it is
 *   written with the element or message bytes (plain), ordered by the same release. Consumers
 *   verify after the acquire that makes the slot or record visible, before handing it over; a
 *   mismatch consumes that message (it is not delivered, and not read again) and is reported
 *   as an error naming the position; the next message is read normally.
 *
 * 4b. A writer that detaches (layout version 6). A writer disposed without completing the channel,
 *   while its process lives on, is neither a completion nor an exit: without a mark its reader
 *   would drain and then wait for data that never comes. Two words on the producer's line of
 *   each channel ring (section 2, +152 and +156; both directions of a duplex, section 5) say it:
 *     writers           u32  writer objects attached now. A single-writer ring's writer stores 1
 *                            (release) when it attaches, before its first write, and 0 (release)
 *                            when it detaches (one writer at a time, 1f and the handover rule: a
 *                            predecessor killed with 1 stored is overwritten by its successor);
 *                            an MPSC ring's writers add 1 (full, atomic) when they attach and
 *                            subtract 1 (full) when they detach. A writer killed never subtracts:
 *                            its end is seen by its pidfd or its role lock (section 4, 1f). A
 *                            writer handed the ring over a bootstrap is counted from the handover
 *                            on (below), before it attaches.
 *     writers_detached  u32  stored 1 (release) by a writer that detaches, before its update of
 *                            writers; never cleared: with writers != 0 it means nothing.
 *   Detach order: the writer's last publish (MPSC: then its registrations end, 2f: its open claims
 *   are marked for the skip), writers_detached = 1, the update of writers, then its wake check
 *   (P2-P6, the update counting as the publish) so that a sleeping reader sees it. A writer that
 *   completes the channel and then detaches is a completion (the state was CLOSED first).
 *   The reader, only where a wait would otherwise block (at its rate-limited liveness checks,
 *   never per message): writers (acquire) == 0, then writers_detached (acquire) != 0, then the
 *   state (acquire): CLOSED is the normal end; else the tail (acquire): drained (head == tail)
 *   after the writers' 0 means that every writer that attached has detached and everything it
 *   published was read, and the wait ends with an error naming the detach. Not sticky: a writer
 *   that attaches later (a new writer of a named channel, another handed-over writer of an MPSC
 *   ring) makes writers non-zero again, and the next wait waits for it. A writer that attaches
 *   between the reader's look and its error is not waited for by that one wait (as with a role
 *   lock freed and taken again, 1f).
 *   A named MPSC ring's reader takes no verdict from the words: its writers are clients that
 *   open the name, write and detach (none may complete what the others share), and a moment
 *   without any is no end (as with its free role lock, 1f).
 *   Trust: both words are the writers' and untrusted. A forged 0 with writers_detached set ends
 *   the reader's wait early once the ring is drained, which a hostile writer could do anyway by
 *   stopping (the reader's wait would end at its timeout or at the writer's exit); a forged
 *   non-zero count makes the reader wait as before this mark existed (its timeout, the writers'
 *   pidfds and role locks still apply). Nothing is signalled or unmapped because of them. An
 *   MPSC writer killed leaves its 1 in writers: while it is counted, that ring's reader ends no
 *   wait by detach, and waits for the exits of the handed-over writer processes as before
 *   (section 4). A write racing its own writer's Dispose on another thread (a misuse) may
 *   publish after the mark: the reader that ended its wait reads it with its next read.
 *   A handover (section 4, bootstrap): the reader's process, handing its channel to a writer
 *   process, counts that writer in before it sends the region (MPSC: writers += 1, full, atomic;
 *   one writer: writers = 1, a full exchange), so that no drained moment before the new writer
 *   attaches ends the reader's wait by detach: neither a mark a predecessor left nor one a writer
 *   attached before (MPSC) stores meanwhile. A send that fails takes the count back (MPSC: -= 1;
 *   one writer: the value before). The writer that receives the ring takes the count over: an
 *   MPSC writer made from a channel message of version 2 or later (the C# IpcChannel bootstrap)
 *   does not add 1 when it attaches, and gives the count back (-= 1) if it is never made; a
 *   single writer's store of 1 is the same either way. A writer process killed before it
 *   attached leaves the count, as a killed MPSC writer does (above). The reader also forgets the
 *   verdict "every writer process has exited" when it watches a new one.
 *   Version-5 peers do not store the words (a version-5 writer after a detached one would leave
 *   the mark standing): a mismatch is refused at attach.
 *
 * ------------------------------------------------------------------------------------
 * 5. Duplex channel regions (request/response over one duplex part: IpcDuplexChannel)
 * ------------------------------------------------------------------------------------
 *
 *   region_kind  UIPC_REGION_CHANNEL_DUPLEX ("UCHD")
 *   part 0       UIPC_PART_DUPLEX_SLOTS, tag 0 (2h): ring 0 = requests, ring 1 = responses
 *   part 1       wait block, tag 0: the consumer of ring 0 (the side that answers requests)
 *   part 2       wait block, tag 1: the consumer of ring 1 (the side that sends requests)
 *   Each wait block follows section 3 for its ring and section 4 for doorbell_kind (both written by
 *   the creator, the same kind) and channel_flags (4a, per ring: its slot size must match).
 *
 * Completion is per direction, so that the answering side can still respond after the requester
 *   completed its requests: the word channel_state (+256) of a ring's consumer's wait block plays
 *   the part of the region state of section 4 for that ring (UIPC_STATE_READY written by the
 *   creator, CLOSED by CAS, full fence, then the wake check P2-P6; the consumer loads it (acquire)
 *   before the ring, and the end is CLOSED with head == tail). The region header's state stays
 *   READY. A peer's process exit is observed as in section 4 (liveness, heartbeat of each ring).
 */
#ifndef UINTRIPC_H
#define UINTRIPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define UIPC_STATIC_ASSERT static_assert
extern "C" {
#else
#define UIPC_STATIC_ASSERT _Static_assert
#endif

#define UIPC_REGION_MAGIC        0x43504955u /* "UIPC" as bytes 55 49 50 43 */
/* 4: the same bytes as 3, a protocol a version-3 peer breaks: MPSC record batches mark their
 * first header at the claim and a lost CAS withdraws its intent (2e, 2f), ended registrations'
 * intents (2f b, c), and the SPSC record producer's claim_end (+144, 2g), which a version-3
 * producer never stores, so that its successor would clear nothing it left. A mismatch is
 * refused at attach.
 * 5: the same bytes as 4, and a named region's role locks (1f): a version-4 peer takes none, so
 * it could be a second writer or reader unnoticed, and a version-5 creator replaces only a
 * version-5 file whose creator lock is free (a version-4 creator holds none). */
/* 6: the same offsets as 5, and the ring's writers / writers_detached words (+152, +156,
 * section 4b), which a version-5 writer never stores: its reader would take it for detached. */
#define UIPC_LAYOUT_VERSION      6u
/* Named regions' role locks (1f): one-byte OFD locks at these file offsets. */
#define UIPC_LOCK_CREATOR        0
#define UIPC_LOCK_WRITER(ring)   (1 + 2 * (ring))
#define UIPC_LOCK_READER(ring)   (2 + 2 * (ring))
#define UIPC_REGION_HEADER_SIZE  1024u
#define UIPC_MAX_PARTS           16u
#define UIPC_PART_ALIGNMENT      128u
/* Distance between words written by different sides (two 64-byte lines). */
#define UIPC_FALSE_SHARING_RANGE 128u

enum uipc_region_state {
    UIPC_STATE_READY  = 1,
    UIPC_STATE_CLOSED = 2,
};

enum uipc_part_kind {
    UIPC_PART_NONE         = 0,
    UIPC_PART_SPSC_SLOTS   = 1,
    UIPC_PART_MPSC_SLOTS   = 2,
    UIPC_PART_SPSC_RECORDS = 3,
    UIPC_PART_MPSC_RECORDS = 4,
    UIPC_PART_WAIT_BLOCK   = 5,
    UIPC_PART_ARENA        = 6,
    UIPC_PART_DUPLEX_SLOTS = 7, /* two SPSC slot rings with interleaved slots (2h) */
    UIPC_PART_USER         = 0x100, /* and above: application-defined */
};

/* One entry of the part table (32 bytes). */
struct uipc_part {
    uint32_t kind;     /* enum uipc_part_kind */
    uint32_t tag;      /* application tag telling parts of one kind apart (e.g. 0 = requests) */
    uint64_t offset;   /* from the start of the region, multiple of UIPC_PART_ALIGNMENT */
    uint64_t length;   /* bytes */
    uint64_t reserved;
};

/* The region header (UIPC_REGION_HEADER_SIZE bytes, the rest reserved and zero). */
struct uipc_region_header {
    uint32_t magic;          /*  0 written last by the creator (release) */
    uint16_t layout_version; /*  4 */
    uint16_t header_size;    /*  6 == UIPC_REGION_HEADER_SIZE */
    uint32_t region_kind;    /*  8 application-defined kind of region (0 = generic) */
    uint32_t part_count;     /* 12 <= UIPC_MAX_PARTS */
    uint64_t total_size;     /* 16 bytes mapped, equals the file size */
    uint64_t epoch;          /* 24 random, non-zero, new on every initialisation */
    int32_t  creator_pid;    /* 32 */
    uint32_t state;          /* 36 enum uipc_region_state (release on change; channels: CAS, section 4) */
    uint8_t  reserved0[24];  /* 40 */
    struct uipc_part parts[UIPC_MAX_PARTS]; /* 64 .. 576 */
    uint8_t  reserved1[UIPC_REGION_HEADER_SIZE - 576];
};

/* ---- rings ---------------------------------------------------------------------- */

#define UIPC_RING_CONTROL_SIZE   512u
#define UIPC_RING_TAIL_OFFSET    128u
#define UIPC_RING_HEAD_OFFSET    256u
#define UIPC_RING_HEARTBEAT_OFFSET 384u
/* Duplex slot rings (2h): both control blocks before the data; the line the pitch rounds up to. */
#define UIPC_DUPLEX_CONTROL_SIZE 1024u
#define UIPC_DUPLEX_PITCH_ALIGNMENT 64u
#define UIPC_SLOT_HEADER_SIZE    8u
#define UIPC_SLOT_SKIPPED        (1ull << 63)
/* Positions (slots or bytes) stay below this, so position + 1 never reaches UIPC_SLOT_SKIPPED
 * and position + capacity never overflows (section 2). */
#define UIPC_MAX_POSITION        (1ull << 62)
#define UIPC_RECORD_HEADER_SIZE  8u
#define UIPC_RECORD_ALIGNMENT    8u
#define UIPC_RECORD_PADDING      (-1)
/* SPSC record producer, a producer's own choice (not layout, nothing a peer checks; 2e): after a
 * head re-read leaves less than min(capacity / 8, UIPC_RECORD_NEARLY_FULL_ROOM) bytes free, the
 * next re-read first waits UIPC_RECORD_HEAD_RELOAD_PAUSE_SPINS spin-loop hints (x86 PAUSE), after claims of at most
 * UIPC_RECORD_PAUSE_MAX_CLAIM bytes (for longer ones the head line is a small part of the
 * traffic; 1 KiB records lost cross-process with the wait). */
#define UIPC_RECORD_NEARLY_FULL_ROOM     1024u
#define UIPC_RECORD_HEAD_RELOAD_PAUSE_SPINS 16u
#define UIPC_RECORD_PAUSE_MAX_CLAIM      512u
/* A slot claimed for in-place writing, with its producer's entry (2d, 2f). */
#define UIPC_SLOT_CLAIMED        (1ull << 62)

/* ---- producer table of MPSC rings (2f) -------------------------------------------- */

#define UIPC_PRODUCER_ENTRY_SIZE    128u
#define UIPC_MAX_PRODUCER_SLOTS     255u
#define UIPC_DEFAULT_PRODUCER_SLOTS 64u
/* Entry index in a claimed marker of a producer without an entry. */
#define UIPC_PRODUCER_NONE          255u
/* pid field of an entry whose registration is in progress. */
#define UIPC_PRODUCER_REGISTERING   0xffffffffu

struct uipc_producer_entry {
    uint64_t owner;          /*  0 pid (low 32) | generation (high 32); pid 0 = free */
    uint64_t claim;          /*  8 intent of the latest claim attempt: (t & 0xffffffff) | n << 32 */
    uint64_t pid_namespace;  /* 16 inode of the producer's /proc/self/ns/pid, 0 = unknown */
    uint8_t  reserved[104];  /* 24 .. 128: one entry per 128 bytes, written by one thread */
};

/* Immutable description of a ring, at the start of its part. */
struct uipc_ring_descriptor {
    uint32_t ring_kind;          /*  0 the part kind again, as a cross-check */
    uint32_t slot_size;          /*  4 slot rings: align8(8 + element_size); record rings: 0 */
    uint64_t capacity;           /*  8 slots (slot rings) or data bytes (record rings); power of two */
    uint32_t element_size;       /* 16 slot rings: bytes per element; record rings: 0 */
    uint32_t max_message_length; /* 20 record rings: max payload bytes; slot rings: element_size */
    uint64_t data_offset;        /* 24 from the ring part start; == UIPC_RING_CONTROL_SIZE */
    uint64_t data_length;        /* 32 bytes of the data area */
    uint32_t producer_slots;     /* 40 MPSC: entries of the producer table (2f); SPSC: 0 */
    uint32_t slot_pitch;         /* 44 slot rings: bytes from one slot to the next, 0 = slot_size (2d, 2h); record rings: 0 */
    uint64_t producer_table_offset; /* 48 MPSC: from the ring part start, align128(data_offset + data_length); SPSC: 0 */
    uint64_t element_type;       /* 56 slot rings: fingerprint of the creator's element type (2i), 0 = not recorded; record rings: 0 */
    uint8_t  reserved[64];       /* 64 .. 128 */
};

struct uipc_ring_control {
    struct uipc_ring_descriptor descriptor;   /*   0 */
    uint64_t tail;                            /* 128 producer-owned (MPSC: CAS by producers) */
    uint32_t unregistered;                    /* 136 MPSC: non-zero once a producer claimed without an entry (2f) */
    uint32_t pad_unregistered;
    uint64_t claim_end;                       /* 144 SPSC record rings: at least the end of the open claim (2g) */
    uint32_t writers;                         /* 152 channels: writer objects attached (section 4b) */
    uint32_t writers_detached;                /* 156 channels: 1 once a writer detached (section 4b) */
    uint8_t  pad_tail[96];
    uint64_t head;                            /* 256 consumer-owned */
    uint64_t releasing;                       /* 264 record rings: the head a release zeroes up to (2e, 2g) */
    uint8_t  pad_head[112];
    int64_t  consumer_heartbeat_ms;           /* 384 consumer-owned, CLOCK_MONOTONIC ms (section 4, liveness) */
    uint8_t  pad_consumer[120];
};

/* ---- wait block (wake-up protocol of one consumer) --------------------------------- */

#define UIPC_WAIT_BLOCK_SIZE 384u

enum uipc_consumer_state {
    UIPC_CONSUMER_AWAKE    = 0,
    UIPC_CONSUMER_SLEEPING = 1, /* announced: the producer must ring the doorbell */
};

/* What the consumer blocks in (wait block doorbell_kind). */
enum uipc_doorbell_kind {
    UIPC_DOORBELL_NONE       = 0, /* spin/yield only: producers ring nothing */
    UIPC_DOORBELL_FUTEX      = 1, /* FUTEX_WAKE on wake_word */
    UIPC_DOORBELL_EVENTFD    = 2, /* write(2) to the consumer's eventfd */
    UIPC_DOORBELL_SIGNAL     = 3, /* tgkill of a real-time signal to the consumer thread */
    UIPC_DOORBELL_UINTR      = 4, /* SENDUIPI (uintripc_uintr.h) */
    UIPC_DOORBELL_UINTR_SIM  = 5, /* the shim's software model of user interrupts (tests only) */
};

/* Signal doorbell: SIGRTMIN + this, unless both sides agree on another real-time signal. */
#define UIPC_SIGNAL_DEFAULT_OFFSET 10

/* ---- channel regions (section 4) ----------------------------------------------------- */

#define UIPC_REGION_CHANNEL_SLOTS    0x53484355u /* "UCHS" as bytes 55 43 48 53 */
#define UIPC_REGION_CHANNEL_MESSAGES 0x4D484355u /* "UCHM" as bytes 55 43 48 4d */
#define UIPC_REGION_CHANNEL_DUPLEX   0x44484355u /* "UCHD" as bytes 55 43 48 44 (section 5) */
/* consumer_heartbeat_ms of a consumer that was disposed (section 4, liveness). */
#define UIPC_HEARTBEAT_DETACHED      (-1)
/* wait block channel_flags (section 4a): immutable after publication; any other bit is refused. */
#define UIPC_CHANNEL_CHECKSUMS       1u
#define UIPC_CHANNEL_KNOWN_FLAGS     UIPC_CHANNEL_CHECKSUMS
/* Bytes of a message checksum (section 4a). */
#define UIPC_CHECKSUM_SIZE           4u

struct uipc_wait_block {
    /* consumer-owned line */
    uint32_t consumer_state;  /*   0 enum uipc_consumer_state (section 3, C3/C6/P4) */
    uint32_t wake_word;       /*   4 futex word: producers increment it before FUTEX_WAKE */
    uint32_t doorbell_kind;   /*   8 enum uipc_doorbell_kind */
    int32_t  consumer_pid;    /*  12 */
    int32_t  consumer_tid;    /*  16 thread that blocks (signal/uintr doorbells) */
    uint32_t channel_flags;   /*  20 channel regions: UIPC_CHANNEL_* bits, set by the creator (section 4a) */
    uint64_t sleeps;          /*  24 times the consumer blocked */
    uint64_t timeouts;        /*  32 waits that ended by timeout */
    uint64_t wakeups_seen;    /*  40 waits that ended by a wake-up */
    uint8_t  pad0[80];        /*  48 .. 128 */
    /* producer-written line */
    uint64_t wakeups_sent;       /* 128 doorbell rung */
    uint64_t wakeups_suppressed; /* 136 publishes that found the consumer awake */
    uint8_t  pad1[112];          /* 144 .. 256 */
    uint32_t channel_state;      /* 256 duplex channel regions: completion of the ring this consumer reads (section 5) */
    uint8_t  reserved[124];      /* 260 .. 384 */
};

/* ---- message checksums (section 4a): reference CRC-32C ------------------------------ */

/* Continues a CRC-32C: `crc` is the running value WITHOUT the initial/final inversion (the
 * hardware instruction's convention). With SSE4.2 (e.g. -msse4.2) the crc32 instruction is used,
 * 8 bytes at a time; otherwise a bitwise software loop gives the same result. */
static inline uint32_t uipc_crc32c_update(uint32_t crc, const void *data, size_t length)
{
    const unsigned char *p = (const unsigned char *)data;
#if defined(__SSE4_2__)
    uint64_t c = crc;
    for (; length >= 8; p += 8, length -= 8) {
        uint64_t word;
        __builtin_memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
    }
    crc = (uint32_t)c;
    for (; length > 0; p++, length--)
        crc = __builtin_ia32_crc32qi(crc, *p);
#else
    for (; length > 0; p++, length--) {
        crc ^= *p;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
#endif
    return crc;
}

/* CRC-32C of `length` bytes: the checksum of a slot channel's element (section 4a). */
static inline uint32_t uipc_crc32c(const void *data, size_t length)
{
    return ~uipc_crc32c_update(0xFFFFFFFFu, data, length);
}

/* The checksum of a message record (section 4a): header as committed (record_length =
 * 8 + n + 4, then type, both little-endian i32), then the n message bytes. */
static inline uint32_t uipc_message_crc32c(int32_t record_length, int32_t type, const void *message, size_t n)
{
    unsigned char header[8];
    __builtin_memcpy(header, &record_length, 4);
    __builtin_memcpy(header + 4, &type, 4);
    return ~uipc_crc32c_update(uipc_crc32c_update(0xFFFFFFFFu, header, 8), message, n);
}

/* ---- compile-time proof of the layout ----------------------------------------------- */

UIPC_STATIC_ASSERT(sizeof(struct uipc_part) == 32, "uipc_part is 32 bytes");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, magic) == 0, "magic at 0");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, layout_version) == 4, "version at 4");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, header_size) == 6, "header_size at 6");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, region_kind) == 8, "region_kind at 8");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, part_count) == 12, "part_count at 12");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, total_size) == 16, "total_size at 16");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, epoch) == 24, "epoch at 24");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, creator_pid) == 32, "creator_pid at 32");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, state) == 36, "state at 36");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, parts) == 64, "parts at 64");
UIPC_STATIC_ASSERT(sizeof(struct uipc_region_header) == UIPC_REGION_HEADER_SIZE, "header size");
UIPC_STATIC_ASSERT(sizeof(struct uipc_ring_descriptor) == 128, "descriptor is one 128-byte block");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, tail) == UIPC_RING_TAIL_OFFSET, "tail");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, head) == UIPC_RING_HEAD_OFFSET, "head");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, consumer_heartbeat_ms) == UIPC_RING_HEARTBEAT_OFFSET, "heartbeat");
UIPC_STATIC_ASSERT(sizeof(struct uipc_ring_control) == UIPC_RING_CONTROL_SIZE, "control block size");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_descriptor, producer_slots) == 40, "producer_slots");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_descriptor, producer_table_offset) == 48, "producer_table_offset");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, unregistered) == 136, "unregistered");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, claim_end) == 144, "claim_end");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, writers) == 152, "writers");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, writers_detached) == 156, "writers_detached");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, releasing) == 264, "releasing");
UIPC_STATIC_ASSERT(sizeof(struct uipc_producer_entry) == UIPC_PRODUCER_ENTRY_SIZE, "producer entry size");
UIPC_STATIC_ASSERT(offsetof(struct uipc_wait_block, wakeups_sent) == 128, "producer line at 128");
UIPC_STATIC_ASSERT(sizeof(struct uipc_wait_block) == UIPC_WAIT_BLOCK_SIZE, "wait block size");
UIPC_STATIC_ASSERT(offsetof(struct uipc_wait_block, channel_flags) == 20, "channel_flags at 20");
UIPC_STATIC_ASSERT(offsetof(struct uipc_wait_block, channel_state) == 256, "channel_state at 256");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_descriptor, slot_pitch) == 44, "slot_pitch at 44");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_descriptor, element_type) == 56, "element_type at 56");
UIPC_STATIC_ASSERT(UIPC_DUPLEX_CONTROL_SIZE == 2 * UIPC_RING_CONTROL_SIZE, "duplex: two control blocks");

/* ---- shim exports (libuintripc.so) ------------------------------------------------- */

#if defined(UINTRIPC_BUILDING_SHIM)
#define UIPC_EXPORT __attribute__((visibility("default")))
#else
#define UIPC_EXPORT
#endif

/* Layout table: one id per constant, so the managed side can prove it agrees. Returns
 * UIPC_LAYOUT_UNKNOWN (INT64_MIN, a value no constant has; -1 is a real value: the padding
 * record type) for an unknown id. Ids are stable; add at the end. */
#define UIPC_LAYOUT_UNKNOWN INT64_MIN
enum uipc_layout_id {
    UIPC_L_MAGIC = 0, UIPC_L_VERSION, UIPC_L_HEADER_SIZE, UIPC_L_MAX_PARTS, UIPC_L_PART_ALIGNMENT,
    UIPC_L_OFF_MAGIC, UIPC_L_OFF_VERSION, UIPC_L_OFF_HEADER_SIZE, UIPC_L_OFF_REGION_KIND,
    UIPC_L_OFF_PART_COUNT, UIPC_L_OFF_TOTAL_SIZE, UIPC_L_OFF_EPOCH, UIPC_L_OFF_CREATOR_PID,
    UIPC_L_OFF_STATE, UIPC_L_OFF_PARTS, UIPC_L_PART_SIZE, UIPC_L_PART_OFF_KIND, UIPC_L_PART_OFF_TAG,
    UIPC_L_PART_OFF_OFFSET, UIPC_L_PART_OFF_LENGTH,
    UIPC_L_RING_CONTROL_SIZE, UIPC_L_RING_OFF_KIND, UIPC_L_RING_OFF_SLOT_SIZE, UIPC_L_RING_OFF_CAPACITY,
    UIPC_L_RING_OFF_ELEMENT_SIZE, UIPC_L_RING_OFF_MAX_MESSAGE, UIPC_L_RING_OFF_DATA_OFFSET,
    UIPC_L_RING_OFF_DATA_LENGTH, UIPC_L_RING_OFF_TAIL, UIPC_L_RING_OFF_HEAD, UIPC_L_RING_OFF_HEARTBEAT,
    UIPC_L_SLOT_HEADER_SIZE, UIPC_L_RECORD_HEADER_SIZE, UIPC_L_RECORD_ALIGNMENT, UIPC_L_RECORD_PADDING,
    UIPC_L_WAIT_SIZE, UIPC_L_WAIT_OFF_STATE, UIPC_L_WAIT_OFF_WAKE_WORD, UIPC_L_WAIT_OFF_DOORBELL_KIND,
    UIPC_L_WAIT_OFF_PID, UIPC_L_WAIT_OFF_TID, UIPC_L_WAIT_OFF_SLEEPS, UIPC_L_WAIT_OFF_TIMEOUTS,
    UIPC_L_WAIT_OFF_WAKEUPS_SEEN, UIPC_L_WAIT_OFF_WAKEUPS_SENT, UIPC_L_WAIT_OFF_WAKEUPS_SUPPRESSED,
    UIPC_L_RING_OFF_PRODUCER_SLOTS, UIPC_L_RING_OFF_PRODUCER_TABLE, UIPC_L_RING_OFF_UNREGISTERED,
    UIPC_L_RING_OFF_RELEASING, UIPC_L_SLOT_CLAIMED, UIPC_L_PRODUCER_ENTRY_SIZE, UIPC_L_MAX_PRODUCER_SLOTS,
    UIPC_L_PRODUCER_NONE, UIPC_L_PRODUCER_REGISTERING, UIPC_L_PRODUCER_OFF_OWNER, UIPC_L_PRODUCER_OFF_CLAIM,
    UIPC_L_PRODUCER_OFF_PID_NAMESPACE,
    UIPC_L_WAIT_OFF_CHANNEL_FLAGS, UIPC_L_CHANNEL_CHECKSUMS, UIPC_L_CHECKSUM_SIZE,
    UIPC_L_RING_OFF_SLOT_PITCH, UIPC_L_PART_DUPLEX_SLOTS, UIPC_L_DUPLEX_CONTROL_SIZE, UIPC_L_DUPLEX_PITCH_ALIGNMENT,
    UIPC_L_REGION_CHANNEL_DUPLEX, UIPC_L_WAIT_OFF_CHANNEL_STATE, UIPC_L_RING_OFF_CLAIM_END,
    UIPC_L_LOCK_CREATOR, UIPC_L_LOCK_WRITER_0, UIPC_L_LOCK_READER_0, UIPC_L_LOCK_WRITER_1,
    UIPC_L_RING_OFF_WRITERS, UIPC_L_RING_OFF_WRITERS_DETACHED, UIPC_L_RING_OFF_ELEMENT_TYPE,
    UIPC_L_COUNT
};
UIPC_EXPORT int64_t UintrIpc_LayoutValue(int32_t id);

/* Write prefetch of the cache lines of [start, start + bytes), at most UIPC_PREFETCH_WRITE_MAX
 * bytes: a hint (no access, never faults) that a producer issues for a slot it will write soon
 * (the SPSC slot producer: a few slots ahead, only slots the consumer has released). */
#define UIPC_PREFETCH_WRITE_MAX 4096u
UIPC_EXPORT void UintrIpc_PrefetchWrite(const void *start, size_t bytes);
/* 1 when the CPU has the write prefetch (x86-64: PRFCHW), else 0: then UintrIpc_PrefetchWrite is not called. */
UIPC_EXPORT int32_t UintrIpc_PrefetchWriteSupported(void);

/* Futex on a 32-bit word in shared memory (no FUTEX_PRIVATE_FLAG, so it works across
 * processes). Wait returns 0 when woken (or spuriously), 1 when the word did not hold
 * `expected` (EAGAIN), 2 on timeout; -errno on error. EINTR is retried inside with the
 * remaining time. Every wait is bounded: timeout_ns < 0 is refused (-EINVAL); the deadline
 * now + timeout_ns saturates at INT64_MAX ns of CLOCK_MONOTONIC instead of overflowing, so
 * INT64_MAX means "until woken" and still ends at the first wake. */
UIPC_EXPORT int32_t UintrIpc_FutexWait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wakes up to `count` waiters; returns how many were woken, or -errno. */
UIPC_EXPORT int32_t UintrIpc_FutexWake(uint32_t *word, int32_t count);

#ifdef __cplusplus
}
#endif
#endif /* UINTRIPC_H */
