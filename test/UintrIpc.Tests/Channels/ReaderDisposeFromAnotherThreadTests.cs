using System.Diagnostics;
using UintrIpc.Channels;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A service's shutdown thread disposes a reader while the reading thread is inside a handler of
/// Read (messages) or Drain (slots). The loop reads the next record and releases what it read
/// after the handler returns, in the mapping the reader's lease keeps. The Dispose used to be
/// refused as if the handler had called it ("A handler of Read disposed its reader"), from a
/// thread that was no handler; it now waits (bounded) for the loop to return, then releases.
/// </summary>
public sealed class ReaderDisposeFromAnotherThreadTests
{
    private const int Count = 10;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_dispose_on_another_thread_waits_for_the_running_drain_then_releases()
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, Doorbell = DoorbellKind.Futex });
        for (long i = 0; i < Count; i++)
        {
            Assert.True(channel.Writer.TryWrite(1000 + i));
        }

        IpcChannelReader<long> reader = channel.Reader;
        var disposer = new Disposer(reader.Dispose);
        var handler = new SlotHandler(disposer, []);
        int drained = reader.Drain(ref handler);
        long drainReturned = Stopwatch.GetTimestamp();
        disposer.Join();

        Assert.Null(disposer.Failure); // the old code: InvalidOperationException "A handler of Drain disposed its reader"
        Assert.Equal(Count, drained);
        Assert.Equal(Enumerable.Range(1000, Count).Select(i => (long)i), handler.Items);
        Assert.True(disposer.Returned >= drainReturned, "Dispose returned while the Drain was still running");
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out long _));
    }

    [Fact]
    public void A_dispose_on_another_thread_waits_for_the_running_read_then_releases()
    {
        using var channel = FilledMessageChannel();
        IpcMessageReader reader = channel.Reader;
        var disposer = new Disposer(reader.Dispose);
        var handler = new RecordHandler(disposer, []);
        int read = reader.Read(ref handler, Count);
        long readReturned = Stopwatch.GetTimestamp();
        disposer.Join();

        Assert.Null(disposer.Failure); // the old code: InvalidOperationException "A handler of Read disposed its reader"
        Assert.Equal(Count, read);
        Assert.Equal(Enumerable.Range(0, Count), handler.Types); // every payload checked in the handler: none read as zeros
        Assert.True(disposer.Returned >= readReturned, "Dispose returned while the Read was still running");
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out int _, new byte[64], out int _));
    }

    [Fact]
    public void A_read_whose_handler_does_not_return_makes_the_dispose_throw_and_release_nothing()
    {
        using var channel = FilledMessageChannel();
        IpcMessageReader reader = channel.Reader;
        var disposer = new Disposer(reader.Dispose);
        var handler = new RecordHandler(disposer, [], holdUntilDisposerEnds: true);
        Assert.Equal(Count, reader.Read(ref handler, Count));
        disposer.Join();

        // Old code: "A handler of Read disposed its reader" at once, blaming a handler.
        Assert.IsType<InvalidOperationException>(disposer.Failure);
        Assert.Contains("did not return within 5 s", disposer.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, Count), handler.Types);

        // Nothing was released: the reader reads on, and disposes once no Read runs.
        Assert.True(channel.Writer.TryWrite(77, Payload(77)));
        var buffer = new byte[64];
        Assert.True(reader.TryRead(out int type, buffer, out int length));
        Assert.Equal(77, type);
        Assert.Equal(Payload(77), buffer[..length]);
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out int _, buffer, out int _));
    }

    /// <summary>
    /// review29: a thread-bound doorbell (signal) is disposed by the reader's own thread while a
    /// Read runs on another one whose handler does not return: the Dispose throws "Nothing was
    /// released", and it must be so. It used to dispose the doorbell receiver first (its check of
    /// the thread), so the reader's next wait threw ObjectDisposedException from the receiver.
    /// </summary>
    [Fact]
    public void A_refused_dispose_of_a_signal_reader_leaves_its_doorbell_working()
    {
        Assert.SkipUnless(IpcChannel.IsDoorbellAvailable(DoorbellKind.Signal, out string why), $"the signal doorbell is not available here: {why}");
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 64 * 1024, Doorbell = DoorbellKind.Signal });
        IpcMessageReader reader = channel.Reader; // this thread's: the doorbell belongs to it
        Assert.True(channel.Writer.TryWrite(1, Payload(1)));
        using var inHandler = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var handler = new BlockingHandler(inHandler, release);
        Exception? readFailure = null;
        var readThread = new Thread(() =>
        {
            try
            {
                reader.Read(ref handler);
            }
            catch (Exception e)
            {
                readFailure = e;
            }
        });
        readThread.Start();
        try
        {
            Assert.True(inHandler.Wait(Bound), "the Read never reached its handler");
            var refused = Assert.Throws<InvalidOperationException>(reader.Dispose);
            Assert.Contains("Nothing was released", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
            Assert.True(readThread.Join(Bound), "the Read did not return");
        }

        Assert.Null(readFailure);
        var buffer = new byte[64];
        Assert.False(reader.TryRead(out _, buffer, out _, TimeSpan.FromMilliseconds(200))); // a wait in the doorbell, ended by its timeout
        var writer = new Thread(() =>
        {
            Thread.Sleep(50);
            channel.Writer.TryWrite(2, Payload(2));
        });
        writer.Start();
        Assert.True(reader.TryRead(out int type, buffer, out int length, Bound));
        Assert.Equal(2, type);
        Assert.Equal(Payload(2), buffer[..length]);
        Assert.True(writer.Join(Bound));
        reader.Dispose();
    }

    private readonly struct BlockingHandler(ManualResetEventSlim inHandler, ManualResetEventSlim release) : IRecordHandler
    {
        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            inHandler.Set();
            Assert.True(release.Wait(Bound), "never released");
        }
    }

    /// <summary>A message channel holding <see cref="Count"/> messages, type i with <see cref="Payload"/>(i).</summary>
    private static IpcMessageChannel FilledMessageChannel()
    {
        var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 64 * 1024, Doorbell = DoorbellKind.Futex });
        for (int i = 0; i < Count; i++)
        {
            Assert.True(channel.Writer.TryWrite(i, Payload(i)));
        }

        return channel;
    }

    private static byte[] Payload(int i) => Enumerable.Range(0, 40).Select(k => (byte)(i + k + 1)).ToArray();

    /// <summary>
    /// Runs a Dispose on its own thread when the handler starts it, and tells the handler when
    /// that Dispose is either finished or asleep in its wait for the loop (its thread state),
    /// so that the handler returns only after the Dispose has met the running loop.
    /// </summary>
    private sealed class Disposer(Action dispose)
    {
        private Thread? _thread;

        public Exception? Failure { get; private set; }

        public long Returned { get; private set; }

        public void StartAndWaitUntilItMeetsTheLoop(bool untilItEnds)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    dispose();
                }
                catch (Exception e)
                {
                    Failure = e;
                }

                Returned = Stopwatch.GetTimestamp();
            });
            _thread.Start();
            var waited = Stopwatch.StartNew();
            while (_thread.IsAlive && (untilItEnds || (_thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0))
            {
                Assert.True(waited.Elapsed < Bound, "the disposing thread neither ended nor waited");
                Thread.Sleep(1);
            }
        }

        public void Join() => Assert.True(_thread!.Join(Bound), "the Dispose did not return");
    }

    private struct SlotHandler(Disposer disposer, List<long> items) : ISlotHandler<long>
    {
        public readonly List<long> Items => items;

        public readonly void Handle(in long item)
        {
            if (items.Count == 0)
            {
                disposer.StartAndWaitUntilItMeetsTheLoop(untilItEnds: false);
            }

            items.Add(item);
        }
    }

    private struct RecordHandler(Disposer disposer, List<int> types, bool holdUntilDisposerEnds = false) : IRecordHandler
    {
        public readonly List<int> Types => types;

        public readonly void Handle(int type, ReadOnlySpan<byte> payload)
        {
            if (types.Count == 0)
            {
                disposer.StartAndWaitUntilItMeetsTheLoop(holdUntilDisposerEnds);
            }

            Assert.True(payload.SequenceEqual(Payload(type)), $"message {type}'s payload changed under its handler");
            types.Add(type);
        }
    }
}
