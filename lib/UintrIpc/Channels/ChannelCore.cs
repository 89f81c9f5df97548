using System.Runtime.CompilerServices;
using UintrIpc.Memory;
using UintrIpc.Metrics;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// What a channel region holds (uintripc.h section 4: region kinds, parts, the doorbell kind
// written by the creator, completion in the region state word) and what a channel object and
// its endpoints share: the region, whose leases keep the mapping (the region's own reference is
// the channel object's; one lease per endpoint and per wait in progress; the last release unmaps).

/// <summary>The region, lifetime, doorbell kind and completion flag shared by a channel object and its endpoints.</summary>
internal sealed unsafe class ChannelCore
{
    /// <summary>Region kind of slot channels: "UCHS" as bytes 55 43 48 53.</summary>
    internal const uint SlotRegionKind = 0x53484355;
    /// <summary>Region kind of message channels: "UCHM" as bytes 55 43 48 4d.</summary>
    internal const uint MessageRegionKind = 0x4D484355;
    /// <summary>Region kind of duplex channels: "UCHD" as bytes 55 43 48 44 (uintripc.h section 5).</summary>
    internal const uint DuplexRegionKind = 0x44484355;

    private readonly uint* _state;
    private readonly bool _unlinkName;
    /// <summary>One direction of a duplex region: the region object belongs to the duplex, this core holds a lease.</summary>
    private readonly bool _duplex;
    /// <summary>This object's writer holds the named channel's writer role (the lock's own description does not see it with F_OFD_GETLK).</summary>
    private bool _holdsWriterRole;
    /// <summary>This object's reader holds the named channel's reader role (invisible to F_OFD_GETLK on its own description, as above).</summary>
    private bool _holdsReaderRole;
    /// <summary>The ring's writers word: writer objects attached (uintripc.h 4b).</summary>
    private readonly uint* _writers;
    /// <summary>The ring's writers_detached word: 1 once a writer detached (uintripc.h 4b).</summary>
    private readonly uint* _writersDetached;
    private int _ownWriters; // this object's writer objects attached and not yet disposed (review28)
    private int _countedByHandover; // 1: the handover that brought this channel counted its writer in, not yet taken over (review29)

    private ChannelCore(SharedRegion region, RegionPart ring, uint waitBlockTag, DoorbellKind doorbell, ChannelWaitOptions wait, bool unlinkName)
    {
        Region = region;
        RingPart = ring;
        WaitBlockPart = region.FindPart(PartKind.WaitBlock, waitBlockTag);
        Doorbell = doorbell;
        Wait = wait;
        _unlinkName = unlinkName;
        _duplex = ring.Kind == PartKind.DuplexSlots;
        // A duplex region completes each direction on its own, in the word of its consumer's wait
        // block (uintripc.h section 5); other channels in the region header's state (section 4).
        _state = _duplex ? (uint*)(region.PartPointer(WaitBlockPart) + WaitBlockLayout.ChannelStateOffset) : (uint*)(region.BasePointer + RegionLayout.StateOffset);
        // Kept like _state: a writer's Dispose marks them once its channel object may already be
        // disposed (PartPointer then throws); the writer's lease keeps the mapping (4b).
        _writers = (uint*)(region.PartPointer(ring) + RingLayout.WritersOffset);
        _writersDetached = (uint*)(region.PartPointer(ring) + RingLayout.WritersDetachedOffset);
        Checksums = ReadChecksumsFlag(region.PartPointer(WaitBlockPart));
        // Validates the descriptor (immutable after publication); the ring objects check it again.
        // With checksums a slot holds 4 more bytes, so the flag must match the slot size (4a).
        Geometry = RingDescriptor.Read(region, ring, SlotTrailer);
        ElementType = IsSlotChannel ? RingDescriptor.ReadElementType(region.PartPointer(ring)) : 0; // read once, compared by IpcChannel<T> (2i)
        if (Checksums && !IsSlotChannel && Geometry.MaxMessageLength < MessageChecksum.Size)
        {
            throw new RegionFormatException("ring max message length", $">= {MessageChecksum.Size} (the wait block's channel flags ask for checksums, which the records hold)", Geometry.MaxMessageLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (_duplex)
        {
            region.AddLease(); // released by Close: the duplex object owns the region's own reference
        }

        UintrIpcMeter.For(wait.MeterFactory).Add(this); // observed only when a listener collects
    }

    /// <summary>The element type fingerprint the ring's creator recorded, 0 = none (uintripc.h 2i).</summary>
    internal ulong ElementType { get; }

    /// <summary>Whether every message carries a CRC-32C (the wait block's channel_flags, uintripc.h 4a).</summary>
    internal bool Checksums { get; }

    /// <summary>Bytes after a slot channel's element that belong to its slot: the checksum, or none.</summary>
    internal int SlotTrailer => Checksums && IsSlotChannel ? MessageChecksum.Size : 0;

    /// <summary>The longest message of a message channel: the ring's, less the checksum the records also hold.</summary>
    internal int MaxMessageLength => Geometry.MaxMessageLength - (Checksums ? MessageChecksum.Size : 0);

    private bool IsSlotChannel => RingPart.Kind is PartKind.SpscSlots or PartKind.MpscSlots or PartKind.DuplexSlots;

    /// <summary>The ring's consumer_heartbeat_ms word (uintripc.h section 4, liveness).</summary>
    internal long* HeartbeatWord => (long*)(Region.PartPointer(RingPart) + RingLayout.HeartbeatOffset);

    /// <summary>
    /// Counts a writer object in (uintripc.h 4b), before its first write. One writer: a store
    /// (release) of 1, over whatever a killed predecessor left; several: an atomic add (full),
    /// unless the handover that brought the channel counted this writer in already.
    /// </summary>
    internal void MarkWriterAttached()
    {
        Interlocked.Increment(ref _ownWriters);
        if (MultipleProducers)
        {
            if (Interlocked.Exchange(ref _countedByHandover, 0) == 0)
            {
                Interlocked.Increment(ref *_writers); // full
            }
        }
        else
        {
            Volatile.Write(ref *_writers, 1u); // release
        }
    }

    /// <summary>
    /// Counts a writer object out (uintripc.h 4b), after its last publish (and, several writers,
    /// the end of its registrations): the mark (release), then the count (one writer: a release
    /// store of 0; several: an atomic subtract, full). The caller's wake check (P2-P6) follows.
    /// </summary>
    internal void MarkWriterDetached()
    {
        Interlocked.Decrement(ref _ownWriters);
        Volatile.Write(ref *_writersDetached, 1u); // release: after the last publish
        if (MultipleProducers)
        {
            Interlocked.Decrement(ref *_writers); // full; a forged 0 wraps to non-zero: the reader waits as before
        }
        else
        {
            Volatile.Write(ref *_writers, 0u); // release: the mark and every publish before it
        }
    }

    /// <summary>
    /// Whether a writer of this channel object (this process) is attached now: its reader then
    /// knows a live writer without asking anybody, whatever the writer processes it was handed
    /// to have done (MultipleWriters: a channel object writes itself and hands the channel out).
    /// </summary>
    internal bool HasOwnWriter() => Volatile.Read(ref _ownWriters) != 0;

    /// <summary>
    /// Whether every writer object that attached has detached (uintripc.h 4b): writers (acquire)
    /// == 0, then writers_detached (acquire) != 0. The caller loads the state and then the tail
    /// after this, so that drained then means nothing more comes. Writers' words, untrusted: a lie
    /// ends a drained reader's wait early (as a writer that stops would), or makes it wait as before.
    /// For the reader's rate-limited liveness checks, never per message.
    /// </summary>
    internal bool WritersDetached() => Volatile.Read(ref *_writers) == 0 && Volatile.Read(ref *_writersDetached) != 0;

    /// <summary>
    /// The reader's process, before it hands the channel to a writer process (uintripc.h 4b):
    /// counts that writer in now (several writers: an atomic add, full; one: an exchange to 1,
    /// full), so that no drained moment before it attaches ends the reader's wait by detach, also
    /// when a writer attached before detaches meanwhile. The writer that receives it takes the
    /// count over (<see cref="TakeOverHandoverCount"/>). False when this channel object was
    /// disposed meanwhile (nothing counted); <paramref name="before"/> is for <see cref="UncountHandedWriter"/>.
    /// </summary>
    internal bool CountHandedWriter(out uint before)
    {
        before = 0;
        if (!TryAddLease())
        {
            return false;
        }

        try
        {
            before = MultipleProducers ? Interlocked.Increment(ref *_writers) - 1 : Interlocked.Exchange(ref *_writers, 1u);
            return true;
        }
        finally
        {
            ReleaseLease();
        }
    }

    /// <summary>A handover whose send failed: its count goes (several writers: subtract 1, full; one: the value before, release).</summary>
    internal void UncountHandedWriter(uint before)
    {
        if (!TryAddLease())
        {
            return;
        }

        try
        {
            if (MultipleProducers)
            {
                Interlocked.Decrement(ref *_writers);
            }
            else
            {
                Volatile.Write(ref *_writers, before);
            }
        }
        finally
        {
            ReleaseLease();
        }
    }

    /// <summary>
    /// The receiving side of a handover whose sender counted the writer in (several writers,
    /// uintripc.h 4b): this object's writer takes that count over instead of adding its own; if
    /// no writer is made, <see cref="Close"/> gives it back.
    /// </summary>
    internal void TakeOverHandoverCount()
    {
        if (MultipleProducers)
        {
            Volatile.Write(ref _countedByHandover, 1);
        }
    }

    /// <summary>The ring's validated descriptor: capacity, element size, max message length.</summary>
    internal RingDescriptor.Geometry Geometry { get; }

    internal SharedRegion Region { get; }

    internal RegionPart RingPart { get; }

    internal RegionPart WaitBlockPart { get; }

    /// <summary>Whether this is one direction of a duplex channel (one writer each, no MultipleWriters).</summary>
    internal bool IsDuplex => _duplex;

    internal bool MultipleProducers => RingPart.Kind is PartKind.MpscSlots or PartKind.MpscRecords;

    internal DoorbellKind Doorbell { get; }

    internal ChannelWaitOptions Wait { get; }

    /// <summary>Whether the channel was completed (acquire: messages published before the completion are visible after it).</summary>
    internal bool IsCompleted
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Volatile.Read(ref *_state) == (uint)RegionState.Closed;
    }

    /// <summary>Creates a channel region (memfd, or /dev/shm/<see cref="IpcChannelOptions.Name"/>).</summary>
    internal static ChannelCore Create(uint regionKind, PartSpec ring, IpcChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? name = options.Name;
        DoorbellKind doorbell = Doorbells.Choose(options.Doorbell, $"{nameof(IpcChannelOptions)}.{nameof(IpcChannelOptions.Doorbell)}");
        var waitBlock = WaitBlockSpec(0, doorbell, options.Checksums, perDirectionState: false);
        SharedRegion region = name is null
            ? SharedRegion.CreateAnonymous(regionKind, ring, waitBlock)
            : SharedRegion.CreateNamed(name, regionKind, ring, waitBlock);
        try
        {
            return new ChannelCore(region, region.FindPart(ring.Kind, 0), 0, doorbell, options.Wait, unlinkName: name is not null);
        }
        catch
        {
            if (name is not null)
            {
                region.Unlink();
            }

            region.Dispose();
            throw;
        }
    }

    /// <summary>Takes over <paramref name="region"/> (disposed on failure) and validates it as a channel.</summary>
    /// <exception cref="RegionFormatException">Not a channel region of this kind, its wait block names no known doorbell or has unknown channel flags, or the checksum flag does not match the ring.</exception>
    internal static ChannelCore Attach(SharedRegion region, uint regionKind, ChannelWaitOptions? wait)
    {
        try
        {
            if (region.RegionKind != regionKind)
            {
                throw new RegionFormatException("region kind", $"0x{regionKind:x8}", $"0x{region.RegionKind:x8}",
                    regionKind == SlotRegionKind ? "Open it with IpcChannel.OpenNamedMessages or AttachMessages if it is a message channel." : "Open it with IpcChannel.OpenNamed<T> or Attach<T> if it is a channel of T.");
            }

            DoorbellKind doorbell = ReadDoorbell(region, 0);
            PartKind spsc = regionKind == SlotRegionKind ? PartKind.SpscSlots : PartKind.SpscRecords;
            PartKind mpsc = regionKind == SlotRegionKind ? PartKind.MpscSlots : PartKind.MpscRecords;
            RegionPart? ring = null;
            foreach (var part in region.Parts)
            {
                if ((part.Kind == spsc || part.Kind == mpsc) && part.Tag == 0)
                {
                    ring = part;
                    break;
                }
            }

            if (ring is null)
            {
                throw new RegionFormatException("channel ring part", $"{spsc} or {mpsc} with tag 0", "none");
            }

            return new ChannelCore(region, ring.Value, 0, doorbell, wait ?? ChannelWaitOptions.Default, unlinkName: false);
        }
        catch (KeyNotFoundException e)
        {
            region.Dispose();
            throw new RegionFormatException("channel wait block part", "a wait block with tag 0", "none", e.Message);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a duplex channel region (memfd; uintripc.h section 5): one duplex part, ring 0 the
    /// requests and ring 1 the responses, and a wait block for each ring's consumer. Returns the
    /// region (its own reference is the caller's) and one core per direction.
    /// </summary>
    internal static (SharedRegion Region, ChannelCore Requests, ChannelCore Responses) CreateDuplex(int requestSize, int responseSize, IpcChannelOptions options,
        ulong requestType = 0, ulong responseType = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Name is not null || options.MultipleWriters)
        {
            throw new ArgumentException("A duplex channel is a memfd region with one writer each way: leave Name null and MultipleWriters false.", nameof(options));
        }

        DoorbellKind doorbell = Doorbells.Choose(options.Doorbell, $"{nameof(IpcChannelOptions)}.{nameof(IpcChannelOptions.Doorbell)}");
        int trailer = options.Checksums ? MessageChecksum.Size : 0;
        PartSpec WaitBlockFor(uint tag) => WaitBlockSpec(tag, doorbell, options.Checksums, perDirectionState: true);
        SharedRegion region = SharedRegion.CreateAnonymous(DuplexRegionKind,
            DuplexPart.Create(options.Capacity, requestSize, trailer, responseSize, trailer, requestType: requestType, responseType: responseType), WaitBlockFor(DuplexPart.Requests), WaitBlockFor(DuplexPart.Responses));
        return AttachDuplexCores(region, doorbell, options.Wait);
    }

    /// <summary>Validates <paramref name="region"/> as a duplex channel region and returns a core per direction; disposes the region on failure.</summary>
    /// <exception cref="RegionFormatException">Not a duplex channel region, or its parts or wait blocks are not as uintripc.h section 5 says.</exception>
    internal static (SharedRegion Region, ChannelCore Requests, ChannelCore Responses) AttachDuplex(SharedRegion region, ChannelWaitOptions? wait)
    {
        try
        {
            if (region.RegionKind != DuplexRegionKind)
            {
                throw new RegionFormatException("region kind", $"0x{DuplexRegionKind:x8} (a duplex channel)", $"0x{region.RegionKind:x8}");
            }

            DoorbellKind doorbell = ReadDoorbell(region, DuplexPart.Requests);
            DoorbellKind responses = ReadDoorbell(region, DuplexPart.Responses);
            if (responses != doorbell)
            {
                throw new RegionFormatException("duplex wait block 1 doorbell kind", doorbell.ToString(), responses.ToString());
            }

            return AttachDuplexCores(region, doorbell, wait ?? ChannelWaitOptions.Default);
        }
        catch (KeyNotFoundException e)
        {
            region.Dispose();
            throw new RegionFormatException("duplex channel part", "a duplex slot part with tag 0 and wait blocks with tags 0 and 1", "none", e.Message);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    private static (SharedRegion Region, ChannelCore Requests, ChannelCore Responses) AttachDuplexCores(SharedRegion region, DoorbellKind doorbell, ChannelWaitOptions wait)
    {
        ChannelCore? requests = null;
        try
        {
            RegionPart duplex = region.FindPart(PartKind.DuplexSlots, 0);
            requests = new ChannelCore(region, DuplexPart.Ring(duplex, DuplexPart.Requests), DuplexPart.Requests, doorbell, wait, unlinkName: false);
            var responses = new ChannelCore(region, DuplexPart.Ring(duplex, DuplexPart.Responses), DuplexPart.Responses, doorbell, wait, unlinkName: false);
            return (region, requests, responses);
        }
        catch
        {
            requests?.Close();
            region.Dispose();
            throw;
        }
    }

    /// <summary>The doorbell kind of the wait block with <paramref name="tag"/> (acquire; the creator wrote it before publishing the region), refused when unknown.</summary>
    private static DoorbellKind ReadDoorbell(SharedRegion region, uint tag)
    {
        var doorbell = new WaitBlock(region, region.FindPart(PartKind.WaitBlock, tag)).ConsumerDoorbellKind;
        if (!Enum.IsDefined(doorbell))
        {
            throw new RegionFormatException("wait block doorbell kind", "a DoorbellKind value", ((uint)doorbell).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return doorbell;
    }

    /// <summary>
    /// The wait block's channel_flags: written by the creator before publication and immutable,
    /// so a plain load (ordered by the acquire of the region's magic). Unknown bits are refused:
    /// they would be options this version cannot honour (uintripc.h 4a).
    /// </summary>
    /// <summary>
    /// A channel's wait block as its creator writes it (uintripc.h sections 4 and 5): the doorbell
    /// kind and the channel flags, and for a duplex direction its channel_state READY. Plain
    /// stores into zero-filled memory before publication (see PartSpec).
    /// </summary>
    private static PartSpec WaitBlockSpec(uint tag, DoorbellKind doorbell, bool checksums, bool perDirectionState)
    {
        uint flags = checksums ? WaitBlockLayout.ChannelChecksums : 0;
        return new(PartKind.WaitBlock, tag, WaitBlockLayout.Size, (address, _) =>
        {
            *(uint*)(address + WaitBlockLayout.DoorbellKindOffset) = (uint)doorbell;
            *(uint*)(address + WaitBlockLayout.ChannelFlagsOffset) = flags;
            if (perDirectionState)
            {
                *(uint*)(address + WaitBlockLayout.ChannelStateOffset) = (uint)RegionState.Ready;
            }
        });
    }

    private static bool ReadChecksumsFlag(byte* waitBlock)
    {
        uint flags = *(uint*)(waitBlock + WaitBlockLayout.ChannelFlagsOffset);
        if ((flags & ~WaitBlockLayout.KnownChannelFlags) != 0)
        {
            throw new RegionFormatException("wait block channel flags", $"only bits of 0x{WaitBlockLayout.KnownChannelFlags:x}", $"0x{flags:x8}",
                "The channel was created by a newer version with options this one does not know.");
        }

        return (flags & WaitBlockLayout.ChannelChecksums) != 0;
    }

    /// <summary>Completes the channel; false if it was completed already. Full fence (CAS).</summary>
    internal bool TryComplete()
    {
        uint seen = Volatile.Read(ref *_state);
        while (seen != (uint)RegionState.Closed)
        {
            // Full fence: every message this side published is visible before CLOSED is.
            uint previous = Interlocked.CompareExchange(ref *_state, (uint)RegionState.Closed, seen);
            if (previous == seen)
            {
                return true;
            }

            seen = previous;
        }

        return false;
    }

    /// <summary>
    /// Takes the writer role lock of a named channel's ring (uintripc.h 1f) for this channel object:
    /// exclusive with one writer, shared with several (so that the reader can tell when every writer
    /// has gone). False when another holds it; true without a name (no lock).
    /// </summary>
    internal bool TryTakeWriterRole()
    {
        bool taken = Region.TryLockRole(RegionLocks.WriterByte(0), shared: MultipleProducers);
        _holdsWriterRole |= taken && IsNamed;
        return taken;
    }

    /// <summary>Takes the reader role lock of a named channel's ring (uintripc.h 1f): false when another holds it; true without a name.</summary>
    internal bool TryTakeReaderRole()
    {
        bool taken = Region.TryLockRole(RegionLocks.ReaderByte(0), shared: false);
        _holdsReaderRole |= taken && IsNamed;
        return taken;
    }

    /// <summary>Whether this channel object holds the writer role now (taken for its writer or a handover).</summary>
    internal bool HoldsWriterRole => Volatile.Read(ref _holdsWriterRole);

    /// <summary>Gives the writer role back: the writer it was taken for could not be made (its constructor threw).</summary>
    internal void ReleaseWriterRole() => ReleaseRole(ref _holdsWriterRole, RegionLocks.WriterByte(0));

    /// <summary>Gives the reader role back: the reader it was taken for could not be made (its constructor threw).</summary>
    internal void ReleaseReaderRole() => ReleaseRole(ref _holdsReaderRole, RegionLocks.ReaderByte(0));

    private void ReleaseRole(ref bool ours, long offset)
    {
        Volatile.Write(ref ours, false);
        Region.UnlockRole(offset);
    }

    /// <summary>
    /// Whether this channel object's writer, or one of another channel object (another process, as
    /// a rule), holds the writer role of this named channel now; false without a name (and true
    /// once this object's region is disposed: its reader ends its wait with that instead). One
    /// fcntl: for the reader's liveness checks, never per message.
    /// </summary>
    internal bool WriterRoleHeld() => RoleHeld(ref _holdsWriterRole, RegionLocks.WriterByte(0));

    /// <summary>
    /// Whether this channel object's reader, or one of another channel object (another process, as
    /// a rule), holds the reader role of this named channel now; false without a name (and true
    /// once this object's region is disposed: its writer ends its wait with that instead). One
    /// fcntl: for the writer's liveness checks while it waits for room, never per message.
    /// </summary>
    internal bool ReaderRoleHeld() => RoleHeld(ref _holdsReaderRole, RegionLocks.ReaderByte(0));

    /// <summary>Whether this object (<paramref name="ours"/>) or another description holds the role lock at <paramref name="offset"/>; true once the region is disposed.</summary>
    private bool RoleHeld(ref bool ours, long offset)
    {
        try
        {
            return Volatile.Read(ref ours) || Region.IsRoleHeldElsewhere(offset);
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>
    /// Whether this named channel's creator lock is free (uintripc.h 1f): its creator exited, was
    /// killed or disposed it; false without a name, in the creator, and once this object's region
    /// is disposed. One fcntl: for the writer's liveness checks while it waits for room.
    /// </summary>
    internal bool CreatorGone()
    {
        try
        {
            return !Region.HasLiveCreator();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Whether the channel lives in a named region, whose roles are locked (uintripc.h 1f).</summary>
    internal bool IsNamed => Region.Name is not null;

    /// <summary>Takes a lease on the region's mapping for an endpoint or a wait (SharedRegion's count).</summary>
    /// <exception cref="ObjectDisposedException">The channel and all its endpoints were disposed.</exception>
    internal void AddLease() => Region.AddLease();

    /// <summary>Takes a lease unless the mapping is gone already (then false).</summary>
    internal bool TryAddLease() => Region.TryAddLease();

    /// <summary>Takes a lease for one operation; dispose the lease when it ends.</summary>
    /// <exception cref="ObjectDisposedException">The channel and all its endpoints were disposed.</exception>
    internal ChannelLease Lease() => new(this);

    /// <summary>Releases a lease; the last one unmaps the region.</summary>
    internal void ReleaseLease() => Region.ReleaseLease();

    /// <summary>
    /// The wake check of a completion for a reader whose doorbell this process never got (a
    /// duplex peer's response reader when the handover failed before its reply; uintripc.h
    /// section 5): a futex doorbell is the wait block's own word, rung without a descriptor. Other
    /// doorbells need the reader's: that reader ends its read after its park slice.
    /// </summary>
    internal void WakeReaderWithoutItsDoorbell()
    {
        if (Doorbell != DoorbellKind.Futex || Doorbells.IsShimMissing || !TryAddLease())
        {
            return; // no way to ring it, or the memory is gone: nothing to throw over the caller's error
        }

        try
        {
            var waitBlock = new WaitBlock(Region, WaitBlockPart);
            using var sender = Doorbells.CreateSender(DoorbellKind.Futex, waitBlock);
            waitBlock.WakeIfSleeping(sender);
        }
        finally
        {
            ReleaseLease();
        }
    }

    /// <summary>
    /// The channel object's end: unlinks the name the creator made (nothing can open it any
    /// more; what is mapped stays mapped), then releases the region's own reference.
    /// </summary>
    internal void Close()
    {
        if (_duplex)
        {
            Region.ReleaseLease(); // the duplex object disposes the region itself
            return;
        }

        if (Interlocked.Exchange(ref _countedByHandover, 0) != 0)
        {
            Interlocked.Decrement(ref *_writers); // full: a handover counted a writer that was never made (4b)
        }

        if (_unlinkName)
        {
            Region.Unlink();
        }

        Region.Dispose();
    }
}
