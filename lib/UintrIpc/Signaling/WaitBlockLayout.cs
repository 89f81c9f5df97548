namespace UintrIpc.Signaling;

/// <summary>
/// Byte layout of a wait block (struct uipc_wait_block in <c>interop/include/uintripc.h</c>):
/// the wake-up protocol state of one consumer. The first 128 bytes are written by the
/// consumer, the next 128 by producers.
/// </summary>
internal static class WaitBlockLayout
{
    /// <summary>Bytes of a wait block.</summary>
    public const int Size = 384;
    /// <summary>consumer_state value: the consumer is running (UIPC_CONSUMER_AWAKE).</summary>
    public const uint ConsumerAwake = 0;
    /// <summary>consumer_state value: the consumer announced that it sleeps (UIPC_CONSUMER_SLEEPING).</summary>
    public const uint ConsumerSleeping = 1;
    /// <summary>u32: 0 awake, 1 sleeping (announced).</summary>
    public const int ConsumerStateOffset = 0;
    /// <summary>u32 futex word; producers increment it before waking.</summary>
    public const int WakeWordOffset = 4;
    /// <summary>u32: the doorbell kind the consumer blocks in.</summary>
    public const int DoorbellKindOffset = 8;
    /// <summary>i32.</summary>
    public const int ConsumerPidOffset = 12;
    /// <summary>i32: the thread that blocks.</summary>
    public const int ConsumerTidOffset = 16;
    /// <summary>u32 channel_flags: channel regions' options, written by the creator before publication (uintripc.h 4a).</summary>
    public const int ChannelFlagsOffset = 20;
    /// <summary>channel_flags bit: every message carries a CRC-32C (UIPC_CHANNEL_CHECKSUMS).</summary>
    public const uint ChannelChecksums = 1;
    /// <summary>Every channel_flags bit this version knows (UIPC_CHANNEL_KNOWN_FLAGS).</summary>
    public const uint KnownChannelFlags = ChannelChecksums;
    /// <summary>u64 consumer-owned counter.</summary>
    public const int SleepsOffset = 24;
    /// <summary>u64 consumer-owned counter.</summary>
    public const int TimeoutsOffset = 32;
    /// <summary>u64 consumer-owned counter.</summary>
    public const int WakeupsSeenOffset = 40;
    /// <summary>u64 producer-written counter.</summary>
    public const int WakeupsSentOffset = 128;
    /// <summary>u64 producer-written counter.</summary>
    public const int WakeupsSuppressedOffset = 136;
    /// <summary>u32 channel_state: duplex channel regions, the completion of the ring this consumer reads (uintripc.h section 5).</summary>
    public const int ChannelStateOffset = 256;
}
