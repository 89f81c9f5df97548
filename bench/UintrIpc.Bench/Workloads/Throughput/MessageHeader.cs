using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The first 8 bytes of every throughput message: bit 62 = warm-up, bits 48..61 = producer,
/// bits 0..47 = the producer's sequence number (continuous across warm-up and measurement).
/// </summary>
internal static class MessageHeader
{
    public const long WarmBit = 1L << 62;
    public const long SequenceMask = (1L << 48) - 1;
    public const int ProducerShift = 48;
    public const int MaxProducers = 1 << 14;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Make(int producer, long sequence, bool warm) => (warm ? WarmBit : 0) | ((long)producer << ProducerShift) | sequence;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Producer(long header) => (int)((header >> ProducerShift) & (MaxProducers - 1));
}
