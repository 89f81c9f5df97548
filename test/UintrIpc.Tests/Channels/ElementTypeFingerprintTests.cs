using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The element type fingerprint of slot channels (uintripc.h 2i): the creator records it, every
/// opener that knows T refuses another type of the same size, and 0 (a C creator) is accepted.
/// </summary>
public sealed class ElementTypeFingerprintTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    /// <summary>FNV-1a 64 over "System.Int64" then 08 00 00 00, computed outside .NET (Python) from the header's recipe.</summary>
    private const ulong Int64Fingerprint = 0x1b13cee2cfc2d31d;
    private readonly ShmNames _names = new();
    private readonly SocketNames _sockets = new();

    public void Dispose()
    {
        _sockets.Dispose();
        _names.Dispose();
    }

    [Fact]
    public unsafe void The_creator_records_the_fingerprint_another_language_can_reproduce()
    {
        Assert.Equal(Int64Fingerprint, ElementFingerprint<long>.Value);
        Assert.Equal("System.Collections.Generic.KeyValuePair`2[System.Int32,System.Double]", ElementFingerprint.NameOf(typeof(KeyValuePair<int, double>)));
        Assert.NotEqual(ElementFingerprint<long>.Value, ElementFingerprint<double>.Value);

        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex, MultipleWriters = true });
        Assert.Equal(Int64Fingerprint, ElementTypeOf(channel.Region, channel.Region.FindPart(PartKind.MpscSlots, 0)));

        using var duplex = IpcChannel.CreateDuplex<long, double>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex });
        RegionPart part = duplex.Region.FindPart(PartKind.DuplexSlots, 0);
        Assert.Equal(Int64Fingerprint, ElementTypeOf(duplex.Region, part));
        Assert.Equal(ElementFingerprint<double>.Value, ElementTypeOf(duplex.Region, part, RingLayout.ControlSize));
    }

    [Fact]
    public void OpenNamed_and_Attach_refuse_another_type_of_the_same_size_naming_both()
    {
        string name = _names.New("typefp");
        using var created = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 8, Doorbell = DoorbellKind.Futex });
        var named = Assert.Throws<RegionFormatException>(() => IpcChannel.OpenNamed<double>(name));
        AssertNamesBoth(named);
        AssertNamesBoth(Assert.Throws<RegionFormatException>(() => IpcChannel.Attach<double>(created.Region.FileHandle)));

        // The refusal left nothing taken: the right type still opens and writes.
        using var opened = IpcChannel.OpenNamed<long>(name);
        Assert.True(opened.Writer.TryWrite(7));
        Assert.Equal(7, created.Reader.Read(Long));
    }

    [Fact]
    public void ReceiveChannel_refuses_another_type_of_the_same_size()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex });
        pair.ServerSide.SendChannel(channel);
        AssertNamesBoth(Assert.Throws<RegionFormatException>(() => pair.ClientSide.ReceiveChannel<double>(Long)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_duplex_receive_refuses_another_request_or_response_type_of_the_same_size(bool wrongRequest)
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex });
        // The sender waits for a reply that never comes (bounded); the receiver refuses first.
        var sender = new TestThread(() => Assert.ThrowsAny<Exception>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromSeconds(2))), "sender");
        var refused = Assert.Throws<RegionFormatException>(() =>
        {
            if (wrongRequest)
            {
                pair.ClientSide.ReceiveDuplexChannel<double, long>(Long).Dispose();
            }
            else
            {
                pair.ClientSide.ReceiveDuplexChannel<long, double>(Long).Dispose();
            }
        });
        sender.Join(Long);
        AssertNamesBoth(refused);
    }

    [Fact]
    public void A_descriptor_without_a_fingerprint_is_accepted_by_any_type_of_the_size()
    {
        // Written as a C creator writes it: element_type 0 (SlotRingEngine and DuplexPart default to it).
        var options = new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex };
        using var created = new IpcChannel<long>(ChannelCore.Create(ChannelCore.SlotRegionKind, SlotRingEngine.CreatePart(PartKind.SpscSlots, 8, sizeof(long), tag: 0), options));
        Assert.Equal(0ul, ElementTypeOf(created.Region, created.Region.FindPart(PartKind.SpscSlots, 0)));
        using var attached = IpcChannel.Attach<double>(created.Region.FileHandle);
        Assert.True(attached.Writer.TryWrite(1.5));
        Assert.Equal(BitConverter.DoubleToInt64Bits(1.5), created.Reader.Read(Long));

        using var duplex = new IpcDuplexChannel<long, long>(ChannelCore.CreateDuplex(sizeof(long), sizeof(long), options));
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        var sender = new TestThread(() => pair.ServerSide.SendChannel(duplex, Long), "sender");
        using var received = pair.ClientSide.ReceiveDuplexChannel<double, double>(Long);
        sender.Join(Long);
        Assert.True(received.Requests.Writer.TryWrite(2.5));
        Assert.Equal(BitConverter.DoubleToInt64Bits(2.5), duplex.Requests.Reader.Read(Long));
    }

    [Fact]
    public void Another_process_opens_with_the_same_type_and_is_refused_with_another()
    {
        string name = _names.New("typefp-x");
        using var created = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 8, Doorbell = DoorbellKind.Futex });
        _ = created.Reader; // the futex doorbell needs no descriptor: the peer's writer rings it

        using (var same = PeerProcess.Start(output, "named-open-typed", name, "long", "42"))
        {
            same.AssertSuccess();
            Assert.Contains("written", same.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Equal(42, created.Reader.Read(Long));

        using (var other = PeerProcess.Start(output, "named-open-typed", name, "double", "1.5"))
        {
            other.AssertSuccess();
            Assert.Contains("refused: ", other.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("this side uses System.Double", other.StandardOutput, StringComparison.Ordinal);
        }

        Assert.False(created.Reader.TryRead(out _));
    }

    private static unsafe ulong ElementTypeOf(SharedRegion region, RegionPart part, int ring = 0)
        => Volatile.Read(ref *(ulong*)(region.PartPointer(part) + ring + RingLayout.ElementTypeOffset)); // immutable; acquire for the test's clarity

    private static void AssertNamesBoth(RegionFormatException e)
    {
        Assert.Contains($"created with another element type of the same size (fingerprint 0x{Int64Fingerprint:x16}), this side uses System.Double", e.Message, StringComparison.Ordinal);
        Assert.Contains("open it with the creator's element type", e.Message, StringComparison.Ordinal);
    }
}
