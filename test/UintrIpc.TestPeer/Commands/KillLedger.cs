using System.IO.MemoryMappedFiles;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The record of the kill test (test/UintrIpc.Tests/Trust/KillTests.cs), kept in a shared file
/// mapping outside the region under test, so that it survives every SIGKILL: a store to it is in
/// the page cache the moment it executes, whoever dies afterwards.
/// </summary>
/// <remarks>
/// <para>Producer p owns two words. Before it writes message s it stores intent = s; after the
/// write returned true it stores committed = s. After a kill, intent == committed + 1 means
/// message `intent` was in flight: it may or may not have been published, so the checker
/// accepts it at most once; every other message up to committed must arrive exactly once.
/// The next incarnation continues at intent + 1.</para>
/// <para>The consumer owns next[p] (the highest sequence of p it delivered), the identity of the
/// message it handled last (ring position, producer, sequence), and an append-only event log
/// (starts, gaps, unblocks, redeliveries): enough to check every message in O(1) space. It
/// handles a message in place and records it before the ring releases the slot, so a consumer
/// killed between the two gets that same message again at the same position on restart; that
/// one redelivery is recognised (same position = the restarted consumer's start head, same
/// identity) and is the only duplicate allowed.</para>
/// <para>All stores are ordered with Volatile (the checker reads the file after the writers died
/// or exited; a killed process loses no store it executed).</para>
/// </remarks>
public sealed unsafe class KillLedger : IDisposable
{
    /// <summary>Producers the ledger has room for.</summary>
    public const int MaxProducers = 16;

    /// <summary>Events the log has room for.</summary>
    public const int EventCapacity = 8192;

    private const ulong Magic = 0x4744454C4C494B55; // "UKILLEDG" as little-endian bytes
    private const int StopOffset = 8;
    private const int DrainOffset = 16;
    private const int EventCountOffset = 24;
    private const int LastPositionOffset = 32;
    private const int LastIdentityOffset = 40;
    private const int ProducerBase = 128;   // 64 bytes per producer: intent, committed
    private const int NextBase = ProducerBase + (MaxProducers * 64); // consumer-owned next[p]
    private const int EventBase = 2048;     // 32 bytes per event
    private const int EventSize = 32;

    /// <summary>Bytes of the ledger file.</summary>
    public const long Size = EventBase + ((long)EventCapacity * EventSize);

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;

    private KillLedger(MemoryMappedFile file)
    {
        _file = file;
        _view = file.CreateViewAccessor(0, Size, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    /// <summary>Kinds of events in the log.</summary>
    public enum EventKind : ulong
    {
        /// <summary>A consumer incarnation started: A = incarnation, B = its start head.</summary>
        ConsumerStart = 1,

        /// <summary>The consumer found producer A's sequences B..C missing (in flight when A was killed, or lost).</summary>
        Gap = 2,

        /// <summary>The consumer skipped a dead producer's claim at position B (TrySkipDeadClaim; slot ring only: the message channel's reader skips inside its reads).</summary>
        Unblock = 3,

        /// <summary>A restarted consumer got producer A's sequence B again at position C (handled, not released, when its predecessor died).</summary>
        Redelivery = 4,
    }

    /// <summary>Whether the orchestrator asked producers to stop.</summary>
    public bool StopRequested => Volatile.Read(ref Word(StopOffset)) != 0;

    /// <summary>Whether the orchestrator asked the consumer to finish once the ring is empty.</summary>
    public bool DrainRequested => Volatile.Read(ref Word(DrainOffset)) != 0;

    /// <summary>Events logged so far.</summary>
    public int EventCount => (int)Volatile.Read(ref Word(EventCountOffset));

    /// <summary>Creates a zeroed ledger file at <paramref name="path"/>.</summary>
    public static KillLedger Create(string path)
    {
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            stream.SetLength(Size);
        }

        var ledger = Open(path, checkMagic: false);
        Volatile.Write(ref ledger.Word(0), Magic);
        return ledger;
    }

    /// <summary>Maps the ledger file at <paramref name="path"/>.</summary>
    public static KillLedger Open(string path) => Open(path, checkMagic: true);

    /// <summary>Producer <paramref name="producer"/>'s intent word (the sequence it is writing or wrote last).</summary>
    public ref ulong Intent(int producer) => ref Word(ProducerBase + (Checked(producer) * 64));

    /// <summary>Producer <paramref name="producer"/>'s committed word (the last sequence whose write returned true).</summary>
    public ref ulong Committed(int producer) => ref Word(ProducerBase + (Checked(producer) * 64) + 8);

    /// <summary>The highest sequence of <paramref name="producer"/> the consumer delivered.</summary>
    public ref ulong Next(int producer) => ref Word(NextBase + (Checked(producer) * 8));

    /// <summary>The ring position of the message the consumer handled last.</summary>
    public ref ulong LastPosition => ref Word(LastPositionOffset);

    /// <summary>The identity of the message the consumer handled last (see <see cref="Identity"/>).</summary>
    public ref ulong LastIdentity => ref Word(LastIdentityOffset);

    /// <summary>One word naming a message: producer and sequence.</summary>
    public static ulong Identity(int producer, ulong sequence) => ((ulong)(uint)producer << 48) | (sequence & 0xFFFF_FFFF_FFFF);

    /// <summary>Asks the producers to stop after their current message.</summary>
    public void RequestStop() => Volatile.Write(ref Word(StopOffset), 1);

    /// <summary>Asks the consumer to exit once it has read everything.</summary>
    public void RequestDrain() => Volatile.Write(ref Word(DrainOffset), 1);

    /// <summary>Appends an event (consumer only): the entry first, then the count (release).</summary>
    public void Append(EventKind kind, ulong a, ulong b, ulong c = 0)
    {
        ulong n = Volatile.Read(ref Word(EventCountOffset));
        if (n >= EventCapacity)
        {
            throw new InvalidOperationException($"the kill ledger's event log is full ({EventCapacity})");
        }

        ulong* e = (ulong*)(_base + EventBase + ((long)n * EventSize));
        e[0] = (ulong)kind;
        e[1] = a;
        e[2] = b;
        e[3] = c;
        Volatile.Write(ref Word(EventCountOffset), n + 1); // release: the entry is complete before it counts
    }

    /// <summary>Event <paramref name="index"/> (below <see cref="EventCount"/>).</summary>
    public (EventKind Kind, ulong A, ulong B, ulong C) Event(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, EventCount);
        ulong* e = (ulong*)(_base + EventBase + ((long)index * EventSize));
        return ((EventKind)e[0], e[1], e[2], e[3]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private static KillLedger Open(string path, bool checkMagic)
    {
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, Size, MemoryMappedFileAccess.ReadWrite);
        var ledger = new KillLedger(file);
        if (checkMagic && Volatile.Read(ref ledger.Word(0)) != Magic)
        {
            ledger.Dispose();
            throw new InvalidDataException($"{path} is not a kill ledger");
        }

        return ledger;
    }

    private static int Checked(int producer) => (uint)producer < MaxProducers
        ? producer
        : throw new ArgumentOutOfRangeException(nameof(producer), producer, $"at most {MaxProducers} producers");

    private ref ulong Word(int offset) => ref *(ulong*)(_base + offset);
}
