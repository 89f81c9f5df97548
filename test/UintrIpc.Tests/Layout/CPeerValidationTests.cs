using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Layout;

/// <summary>
/// The C peer validates what it reads like the library does: a corrupt header, a missing or
/// misdescribed ring, or a corrupt position ends it with a message naming the field (exit 2),
/// and a silent other side ends it after its timeout (exit 3), never with a hang or a crash.
/// The rings here are described by hand with the library's descriptor writer, so these tests
/// need nothing but the layout.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class CPeerValidationTests : IDisposable
{
    private static readonly TimeSpan s_peerTimeout = TimeSpan.FromSeconds(20);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    /// <summary>An empty SPSC slot ring part, as the C peer expects it (16-byte elements).</summary>
    private static PartSpec SlotRing(uint tag, int capacity = 8, int elementSize = 16)
    {
        int slotSize = RingLayout.SlotSize(elementSize);
        return new PartSpec(PartKind.SpscSlots, tag, RingLayout.SlotRingSize(capacity, elementSize),
            (p, _) => RingDescriptor.Write((byte*)p, PartKind.SpscSlots, slotSize, capacity, elementSize, elementSize, (long)capacity * slotSize));
    }

    private (SharedRegion Region, string Name) CreateRegion(params PartSpec[] parts)
    {
        string name = _names.New("cpeer");
        return (SharedRegion.CreateNamed(name, 0, parts), name);
    }

    private static byte* Ring(SharedRegion region, uint tag) => region.PartPointer(region.FindPart(PartKind.SpscSlots, tag));

    public static TheoryData<string, string> HeaderCorruptions() => new()
    {
        { "magic", "magic should be 0x43504955 but is 0x0badf00d" },
        { "version", "layout_version should be 6 but is 9" },
        { "header size", "header_size should be 1024 but is 2048" },
        { "total size", "total_size should be" },
        { "part count", "part_count should be <= 16 but is 99" },
        { "epoch", "epoch should be non-zero" },
        { "part offset", "parts[1].offset should be a multiple of 128 but is" },
        { "part overlap", "parts[1].offset should be between" },
        { "part length", "parts[1].length should be <=" },
    };

    [Theory]
    [MemberData(nameof(HeaderCorruptions))]
    public void A_corrupt_header_is_refused_with_a_message(string corruption, string message)
    {
        var (region, name) = CreateRegion(SlotRing(0), SlotRing(1));
        using (region)
        {
            byte* b = region.BasePointer;
            byte* part1 = b + RegionLayout.PartsOffset + RegionLayout.PartSize;
            switch (corruption)
            {
                case "magic": *(uint*)(b + RegionLayout.MagicOffset) = 0x0BADF00D; break;
                case "version": *(ushort*)(b + RegionLayout.VersionOffset) = 9; break;
                case "header size": *(ushort*)(b + RegionLayout.HeaderSizeOffset) = 2048; break;
                case "total size": *(ulong*)(b + RegionLayout.TotalSizeOffset) += 4096; break;
                case "part count": *(uint*)(b + RegionLayout.PartCountOffset) = 99; break;
                case "epoch": *(ulong*)(b + RegionLayout.EpochOffset) = 0; break;
                case "part offset": *(ulong*)(part1 + RegionLayout.PartOffsetOffset) += 64; break;
                case "part overlap": *(ulong*)(part1 + RegionLayout.PartOffsetOffset) = RegionLayout.HeaderSize; break;
                case "part length": *(ulong*)(part1 + RegionLayout.PartLengthOffset) = (ulong)region.Size; break;
                default: throw new ArgumentOutOfRangeException(nameof(corruption));
            }

            var result = CPeer.Run(name, 1, s_peerTimeout);
            Assert.True(result.ExitCode == CPeer.ExitInvalid, result.ToString());
            Assert.Contains("invalid region: " + message, result.StandardError, StringComparison.Ordinal);
            Assert.Empty(result.StandardOutput);
        }
    }

    [Fact]
    public void An_unpublished_region_is_refused_after_the_timeout()
    {
        var (region, name) = CreateRegion(SlotRing(0), SlotRing(1));
        using (region)
        {
            *(uint*)(region.BasePointer + RegionLayout.MagicOffset) = 0;
            var result = CPeer.Run(name, 1, TimeSpan.FromMilliseconds(300));
            Assert.True(result.ExitCode == CPeer.ExitInvalid, result.ToString());
            Assert.Contains("the creator did not publish within 300 ms", result.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_missing_reply_ring_is_refused()
    {
        var (region, name) = CreateRegion(SlotRing(0), new PartSpec(PartKind.User, 1, 4096));
        using (region)
        {
            var result = CPeer.Run(name, 1, s_peerTimeout);
            Assert.True(result.ExitCode == CPeer.ExitInvalid, result.ToString());
            Assert.Contains("no SPSC slot ring (part kind 1) with tag 1", result.StandardError, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("element size", "element_size should be 16 but is 8")]
    [InlineData("capacity", "capacity should be a power of two between 2 and 2^30 but is 6")]
    [InlineData("kind", "ring_kind should be 1 but is 2")]
    [InlineData("data length", "data_length should be")]
    [InlineData("data offset", "data_offset should be 512 but is 0")]
    public void A_misdescribed_ring_is_refused(string corruption, string message)
    {
        PartSpec ring1 = corruption == "element size" ? SlotRing(1, elementSize: 8) : SlotRing(1);
        var (region, name) = CreateRegion(SlotRing(0), ring1);
        using (region)
        {
            byte* r = Ring(region, 1);
            switch (corruption)
            {
                case "element size": break;
                case "capacity": *(ulong*)(r + RingLayout.CapacityOffset) = 6; break;
                case "kind": *(uint*)(r + RingLayout.KindOffset) = (uint)PartKind.MpscSlots; break;
                case "data length": *(ulong*)(r + RingLayout.DataLengthOffset) = 1 << 20; break;
                case "data offset": *(ulong*)(r + RingLayout.DataOffsetOffset) = 0; break;
                default: throw new ArgumentOutOfRangeException(nameof(corruption));
            }

            var result = CPeer.Run(name, 1, s_peerTimeout);
            Assert.True(result.ExitCode == CPeer.ExitInvalid, result.ToString());
            Assert.Contains("invalid region: " + message, result.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Positions_that_break_the_ring_invariant_are_refused()
    {
        var (region, name) = CreateRegion(SlotRing(0), SlotRing(1));
        using (region)
        {
            // head beyond tail: impossible for an honest consumer.
            *(ulong*)(Ring(region, 1) + RingLayout.HeadOffset) = 5;
            var result = CPeer.Run(name, 1, s_peerTimeout);
            Assert.True(result.ExitCode == CPeer.ExitInvalid, result.ToString());
            Assert.Contains("invalid ring 1: head 5 and tail 0 break head <= tail <= head + capacity", result.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_corrupt_slot_sequence_is_refused()
    {
        var (region, name) = CreateRegion(SlotRing(0), SlotRing(1));
        using (region)
        {
            // Neither "published" (1), nor "empty" (0): a producer never writes this into slot 0 of the first lap.
            Volatile.Write(ref *(ulong*)(Ring(region, 0) + RingLayout.ControlSize), 12345UL);
            var result = CPeer.Run(name, 1, s_peerTimeout);
            Assert.True(result.ExitCode == CPeer.ExitInvalid, result.ToString());
            Assert.Contains("invalid ring 0: slot sequence 12345 at position 0", result.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_silent_producer_ends_the_peer_with_a_timeout()
    {
        var (region, name) = CreateRegion(SlotRing(0), SlotRing(1));
        using (region)
        {
            var result = CPeer.Run(name, 1, TimeSpan.FromMilliseconds(300));
            Assert.True(result.ExitCode == CPeer.ExitTimeout, result.ToString());
            Assert.Contains("no message at position 0 of ring 0 within 300 ms", result.StandardError, StringComparison.Ordinal);
            // It did attach and validate before waiting.
            Assert.Contains($"attached epoch {region.Epoch:x16}", result.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_missing_region_is_reported()
    {
        string name = _names.New("absent");
        var result = CPeer.Run(name, 1, s_peerTimeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No such file or directory (has the creator started?)", result.StandardError, StringComparison.Ordinal);
    }
}
