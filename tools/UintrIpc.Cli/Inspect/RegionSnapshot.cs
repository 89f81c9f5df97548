namespace UintrIpc.Cli.Inspect;

/// <summary>What `uintr-ipc inspect` shows of a region at one moment (also its JSON shape).</summary>
/// <param name="Source">The file inspected (/dev/shm/NAME or a /proc/PID/fd/N path).</param>
/// <param name="Size">Bytes mapped.</param>
/// <param name="LayoutVersion">The header's layout version.</param>
/// <param name="Kind">What the region is: "slot channel", "message channel", or "application-defined".</param>
/// <param name="KindCode">The region kind word, in hex.</param>
/// <param name="State">The header's state word (Ready, Closed, ...).</param>
/// <param name="Epoch">The region's epoch, in hex.</param>
/// <param name="Creator">The creating process, as the header names it.</param>
/// <param name="AttachedProcesses">Processes that map this region now (from /proc/*/maps, as far as this user can read).</param>
/// <param name="Parts">The part table with what each part holds.</param>
internal sealed record RegionSnapshot(
    string Source,
    long Size,
    int LayoutVersion,
    string Kind,
    string KindCode,
    string State,
    string Epoch,
    ProcessReport Creator,
    IReadOnlyList<ProcessReport> AttachedProcesses,
    IReadOnlyList<PartSnapshot> Parts);

/// <summary>One part of the region.</summary>
/// <param name="Index">Its position in the part table.</param>
/// <param name="Kind">The PartKind name (or its number when unknown).</param>
/// <param name="Tag">The application tag.</param>
/// <param name="Offset">Offset from the region start.</param>
/// <param name="Length">Bytes.</param>
/// <param name="Ring">For ring parts: positions and occupancy.</param>
/// <param name="WaitBlock">For wait-block parts: the consumer's state and the counters.</param>
/// <param name="Problem">What failed validation in this part, if anything.</param>
internal sealed record PartSnapshot(
    int Index,
    string Kind,
    uint Tag,
    long Offset,
    long Length,
    RingSnapshot? Ring,
    WaitBlockSnapshot? WaitBlock,
    string? Problem);

/// <summary>A ring's geometry, positions and occupancy.</summary>
/// <param name="Unit">What positions count: "slots" or "bytes".</param>
/// <param name="Capacity">Slots, or data bytes.</param>
/// <param name="ElementSize">Bytes per element (slot rings).</param>
/// <param name="MaxMessageLength">Largest payload (record rings).</param>
/// <param name="ProducerPosition">The tail: slots or bytes claimed by producers since creation.</param>
/// <param name="ConsumerPosition">The head: slots or bytes consumed since creation.</param>
/// <param name="Occupancy">ProducerPosition - ConsumerPosition.</param>
/// <param name="OccupancyPercent">Occupancy as a share of the capacity.</param>
/// <param name="ConsumerHeartbeatAgeMs">Milliseconds since the consumer's last heartbeat, or null if it never wrote one.</param>
/// <param name="Problem">Positions that cannot be right (head past tail, more than the capacity in use), if any.</param>
internal sealed record RingSnapshot(
    string Unit,
    long Capacity,
    int ElementSize,
    int MaxMessageLength,
    ulong ProducerPosition,
    ulong ConsumerPosition,
    long Occupancy,
    double? OccupancyPercent,
    long? ConsumerHeartbeatAgeMs,
    string? Problem);

/// <summary>A wait block: the consumer's announced state, its doorbell, its thread, and the counters.</summary>
/// <param name="ConsumerState">"awake" or "sleeping" (announced), or the raw value.</param>
/// <param name="WakeWord">The futex word producers increment before waking.</param>
/// <param name="Doorbell">The doorbell the consumer parks in.</param>
/// <param name="Consumer">The consumer's process, once it has parked (null before).</param>
/// <param name="ConsumerThread">The consumer's thread id (0 when none is published).</param>
/// <param name="Sleeps">Times the consumer blocked in its doorbell.</param>
/// <param name="Timeouts">Blocking waits that ended by timeout.</param>
/// <param name="WakeupsSeen">Blocking waits ended by a wake-up.</param>
/// <param name="WakeupsSent">Times a producer rang the doorbell.</param>
/// <param name="WakeupsSuppressed">Publishes that found the consumer awake and rang nothing.</param>
internal sealed record WaitBlockSnapshot(
    string ConsumerState,
    uint WakeWord,
    string Doorbell,
    ProcessReport? Consumer,
    int ConsumerThread,
    ulong Sleeps,
    ulong Timeouts,
    ulong WakeupsSeen,
    ulong WakeupsSent,
    ulong WakeupsSuppressed);

/// <summary>A process named by the region, and whether it is alive.</summary>
/// <param name="Pid">The process id.</param>
/// <param name="Alive">Whether /proc/PID exists.</param>
/// <param name="MapsRegion">Whether it maps this region now (a live pid that does not may be a reused pid).</param>
/// <param name="Command">Its command name (/proc/PID/comm), when alive and readable.</param>
internal sealed record ProcessReport(int Pid, bool Alive, bool MapsRegion, string? Command);
