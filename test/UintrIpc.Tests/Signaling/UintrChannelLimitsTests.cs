using UintrIpc.Channels;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// The limits a program meets when it puts user-interrupt channels into production (uintr40),
/// through the public channel API: a thread reads at most one such channel (one receiver per
/// thread), a process holds at most 256 writers of such channels (the kernel's UITT, and the
/// shim's table of the same size), and a reader's thread must outlive the reader (an interrupt
/// wakes only the thread that registered). Each refusal must say what to do. Run for uintr-sim
/// here and for the hardware in the emulated-uintr job (trait Uintr=Real). In the CrossProcess
/// collection: the sender table is per process, so no test may hold senders meanwhile.
/// </summary>
[Collection(CrossProcessCollection.Name)]
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
public sealed class UintrChannelLimitsTests
{
    /// <summary>More than the sender table holds (256), whatever other tests of this process hold.</summary>
    private const int MoreThanTheTable = 260;

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    public static TheoryData<DoorbellKind> Kinds => new() { DoorbellKind.UintrSimulated, DoorbellKind.Uintr };

    private static IpcChannelOptions Options(DoorbellKind kind) => new() { Doorbell = kind, Capacity = 16 };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_second_user_interrupt_channel_read_on_one_thread_is_refused_with_what_to_do(DoorbellKind kind)
    {
        RealUintr.SkipUnlessDoorbellAvailable(kind);
        UintrTestThread.Run(() =>
        {
            var first = IpcChannel.CreateBounded<long>(Options(kind));
            using var second = IpcChannel.CreateBounded<long>(Options(kind));
            _ = first.Reader;
            var refusal = Assert.Throws<UintrIpcException>(() => second.Reader);
            Assert.Equal(16, refusal.Errno); // EBUSY
            Assert.Contains("a thread reads at most one such channel", refusal.Message, StringComparison.Ordinal);
            Assert.Contains("DoorbellKind.Futex", refusal.Message, StringComparison.Ordinal);

            // The advice holds: once the other channel is disposed, this thread can read this one.
            first.Dispose();
            var reader = second.Reader;
            Assert.True(second.Writer.TryWrite(5));
            Assert.True(reader.TryRead(out long value, Long));
            Assert.Equal(5, value);
        });
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Past_256_writers_in_one_process_the_refusal_says_what_to_do_and_a_disposed_channel_frees_its_entry(DoorbellKind kind)
    {
        RealUintr.SkipUnlessDoorbellAvailable(kind);
        var channels = new List<IpcChannel<long>>();
        var holders = new List<UintrTestThread>();
        using var release = new ManualResetEventSlim();
        try
        {
            // Each reader on a thread of its own (one receiver per thread), held until the end.
            for (int i = 0; i < MoreThanTheTable; i++)
            {
                var channel = IpcChannel.CreateBounded<long>(Options(kind));
                channels.Add(channel);
                using var ready = new ManualResetEventSlim();
                holders.Add(UintrTestThread.Start(() =>
                {
                    _ = channel.Reader;
                    ready.Set();
                    Assert.True(release.Wait(TimeSpan.FromMinutes(5)), "the test did not release the reader threads");
                }));
                Assert.True(ready.Wait(Long), $"reader {i} was not created within {Long.TotalSeconds} s");
            }

            int made = 0;
            UintrIpcException? refusal = null;
            foreach (var channel in channels)
            {
                try
                {
                    _ = channel.Writer;
                    made++;
                }
                catch (UintrIpcException e)
                {
                    refusal = e;
                    break;
                }
            }

            Assert.NotNull(refusal);
            Assert.InRange(made, 1, 256);
            Assert.Equal(28, refusal.Errno); // ENOSPC
            Assert.Contains("256 user-interrupt senders", refusal.Message, StringComparison.Ordinal);
            Assert.Contains("Dispose channels this process no longer writes", refusal.Message, StringComparison.Ordinal);

            // The advice holds: disposing a writer frees its entry, and the refused channel can be written.
            channels[0].Writer.Dispose();
            var late = channels[made].Writer;
            Assert.True(late.TryWrite(1));
        }
        finally
        {
            release.Set();
            foreach (var holder in holders)
            {
                holder.Join();
            }

            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_reader_whose_thread_has_exited_still_reads_what_is_there_and_says_why_it_cannot_wait(DoorbellKind kind)
    {
        RealUintr.SkipUnlessDoorbellAvailable(kind);
        // No spin or yield budget: the empty read below goes to the doorbell at once rather than
        // spending its time spinning (the emulated machine is 10-100x slower).
        using var channel = IpcChannel.CreateBounded<long>(Options(kind) with { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero });
        // Both made on that thread, which then ends: a writer made after its exit is refused
        // (ESHUTDOWN, "The receiver has gone").
        var (reader, writer) = UintrTestThread.Run(() => (channel.Reader, channel.Writer));

        Assert.True(writer.TryWrite(1));
        Assert.True(reader.TryRead(out long value, Long));
        Assert.Equal(1, value);

        var refusal = Assert.Throws<InvalidOperationException>(() => reader.TryRead(out _, Long));
        Assert.Contains("which has exited", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("on a thread that outlives it", refusal.Message, StringComparison.Ordinal);
    }
}
