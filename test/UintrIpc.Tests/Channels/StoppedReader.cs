using Tmds.Linux;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The frame of the stopped-reader tests (SlowReaderProcessTests, NamedChannelRoleTests): a reader
/// process alive but not running (SIGSTOP; in the field a starved thread pool stops its heartbeat's
/// timer, design-notes user39) must be waited for, not declared gone by its still heartbeat.
/// </summary>
internal static class StoppedReader
{
    /// <summary>
    /// Stops <paramref name="reader"/>, fills the ring with <paramref name="tryWrite"/>, checks that a
    /// write waiting for room ends at its own timeout (5 s, five of the channel's 1 s peer timeouts)
    /// with false, resumes the reader and writes the values up to <paramref name="total"/> (each
    /// within <paramref name="timeout"/>). The reader is resumed also when an assertion fails.
    /// </summary>
    internal static void WriteAcrossStop(PeerProcess reader, Func<long, bool> tryWrite, Func<long, TimeSpan, bool> tryWriteWithin, long total, TimeSpan timeout)
    {
        bool stopped = false;
        try
        {
            Assert.Equal(0, LibC.kill(reader.Pid, LibC.SIGSTOP));
            stopped = true;
            long next = 0;
            while (tryWrite(next))
            {
                next++; // fills the ring, or what the reader left of it before it stopped
            }

            // Alive (its pidfd and role lock say so) but not running: the wait ends at its own timeout, false.
            Assert.False(tryWriteWithin(next, TimeSpan.FromSeconds(5)));

            Assert.Equal(0, LibC.kill(reader.Pid, LibC.SIGCONT));
            stopped = false;
            for (; next < total; next++)
            {
                Assert.True(tryWriteWithin(next, timeout), $"value {next}: no room within {timeout}");
            }
        }
        finally
        {
            if (stopped)
            {
                _ = LibC.kill(reader.Pid, LibC.SIGCONT); // let it run to its own end (or its Dispose's kill)
            }
        }
    }
}
