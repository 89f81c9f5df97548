using System.Globalization;

namespace SyscallForward.Seed;

/// <summary>What a <see cref="SeedServer"/> saw (updated by its serving thread only).</summary>
internal sealed class SeedStatistics
{
    /// <summary>Requests taken with a valid descriptor.</summary>
    public long Requests { get; set; }

    /// <summary>Answers published.</summary>
    public long Answered { get; set; }

    /// <summary>Signals taken.</summary>
    public long Notifications { get; set; }

    /// <summary>Requests answered -EFAULT (an offset or length outside the data buffer).</summary>
    public long Faults { get; set; }

    /// <summary>Ring entries whose descriptor index was out of range (skipped).</summary>
    public long BadIndices { get; set; }

    /// <summary>Ring entries whose descriptor was not valid (skipped).</summary>
    public long Stale { get; set; }

    /// <summary>Ring entries naming a descriptor already in the batch (skipped).</summary>
    public long Duplicates { get; set; }

    /// <summary>Times the request index was more than the capacity ahead.</summary>
    public long RingViolations { get; set; }

    /// <summary>Times the lock was not had within the spin budget.</summary>
    public long LockTimeouts { get; set; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"requests {Requests} answered {Answered} notifications {Notifications} faults {Faults} bad-indices {BadIndices} stale {Stale} duplicates {Duplicates} ring-violations {RingViolations} lock-timeouts {LockTimeouts}");
}
