using System.Diagnostics;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>The process's one peer-end watcher thread outlives a callback that throws.</summary>
public sealed class PeerEndWatcherTests
{
    [Fact]
    public void A_callback_that_throws_leaves_the_watcher_serving_later_watches()
    {
        // A throw on the watcher thread would end the process (an unhandled exception on a
        // thread), and with it every later watch: here the second callback would never run.
        using var first = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        using var second = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        try
        {
            using var secondGone = new ManualResetEventSlim();
            int thrown = 0;
            using IDisposable throwing = PeerEndWatcher.Watch(null, ProcessHandle.Open(first.Id), () =>
            {
                Interlocked.Increment(ref thrown);
                throw new InvalidOperationException("a callback that throws");
            });
            using IDisposable later = PeerEndWatcher.Watch(null, ProcessHandle.Open(second.Id), secondGone.Set);

            first.Kill();
            first.WaitForExit();
            SpinWait.SpinUntil(() => Volatile.Read(ref thrown) == 1, TimeSpan.FromSeconds(30));
            Assert.Equal(1, Volatile.Read(ref thrown));

            second.Kill();
            second.WaitForExit();
            Assert.True(secondGone.Wait(TimeSpan.FromSeconds(30)), "the watcher stopped after a callback threw");
        }
        finally
        {
            foreach (Process p in new[] { first, second })
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    p.WaitForExit();
                }
            }
        }
    }
}
