using System.Diagnostics;
using Tmds.Linux;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// A named region's name appears only once the region is whole (uintripc.h 1b: made in an
/// O_TMPFILE file, then linkat to the name): a creator killed inside its create leaves nothing in
/// /dev/shm, and a creator stopped there is neither visible to its opener nor taken for dead. The
/// creator is a real child (<see cref="StalledCreator"/>, as in DeadCreatorOpenTests),
/// stopped by a test-only hook after the open of its file (before its creator lock) or once the file
/// is sized (before the header is published).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class UnnamedCreateTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartUp = StalledCreator.StartUp;
    // Longer than the empty file's grace, so that an opener of a name made O_EXCL reaches its verdict within it.
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(3);
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Theory]
    [InlineData("before-lock")]
    [InlineData("before-publish")]
    public void A_creator_killed_inside_its_create_leaves_no_file_and_the_name_can_be_created_again(string point)
    {
        string name = _names.New("killedcreate");
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        StalledCreator.StartAndKill(output, name, point); // SIGKILL, inside the create
        Assert.False(File.Exists(path), $"the creator killed {point} left {path}");
        var e = Assert.Throws<UintrIpcException>(() => IpcChannel.OpenNamed<long>(name, initTimeout: OpenTimeout));
        Assert.Equal(LibC.ENOENT, e.Errno);

        StalledCreator.AssertCreatesAgain(name, OpenTimeout);
    }

    /// <summary>
    /// The child is stopped (SIGSTOP) inside its create for twice the empty file's grace
    /// (<see cref="DeadCreatorCheck.EmptyUnlockedGrace"/>); meanwhile every open finds no name
    /// (ENOENT) rather than a file to wait on or to judge dead. Once it runs again it publishes and
    /// the name opens.
    /// </summary>
    [Theory]
    [InlineData("before-lock")]
    [InlineData("before-publish")]
    public async Task A_creator_stopped_inside_its_create_is_not_seen_until_its_region_is_whole(string point)
    {
        string name = _names.New("stoppedcreate");
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        using var creator = StalledCreator.Start(output, name, point);
        bool stopped = false;
        try
        {
            Assert.Equal(0, LibC.kill(creator.Pid, LibC.SIGSTOP));
            stopped = true;
            creator.WriteLine("go"); // read once it runs again
            long stoppedAt = Stopwatch.GetTimestamp();
            int opens = 0;
            while (Stopwatch.GetElapsedTime(stoppedAt) < DeadCreatorCheck.EmptyUnlockedGrace * 2)
            {
                // Bounded by OpenTimeout; the hang guard is only for a wait that ignores it.
                var open = Task.Run(() => IpcChannel.OpenNamed<long>(name, initTimeout: OpenTimeout));
                Exception? e = await Record.ExceptionAsync(() => open.WaitAsync(OpenTimeout * 10));
                Assert.True(e is UintrIpcException u && u.Errno == LibC.ENOENT, $"open {opens} while the creator is stopped {point}: expected ENOENT (no such name yet), got {e}");
                Assert.False(File.Exists(path), $"{path} is visible while its creator is stopped {point}");
                opens++;
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }

            output.WriteLine($"{point}: {opens} opens in {Stopwatch.GetElapsedTime(stoppedAt).TotalMilliseconds:F0} ms of the stop, each ENOENT");
            Assert.Equal(0, LibC.kill(creator.Pid, LibC.SIGCONT));
            stopped = false;
            creator.WaitForOutput("created", StartUp);
            using var channel = IpcChannel.OpenNamed<long>(name, initTimeout: OpenTimeout);
            Assert.True(channel.Writer.TryWrite(1));
        }
        finally
        {
            if (stopped)
            {
                _ = LibC.kill(creator.Pid, LibC.SIGCONT); // it runs on to its wait for stdin; Dispose kills it
            }
        }

        creator.WriteLine("done");
        creator.AssertSuccess(StartUp);
    }

    /// <summary>
    /// Where O_TMPFILE fails (a kernel or file system without it: EOPNOTSUPP), /proc/self/fd is
    /// missing (/proc not mounted) or linkat is refused (EPERM: a seccomp filter, a file system
    /// without hard links), the creator creates the name O_EXCL and the channel works as before.
    /// The failures are real system calls failed by strace's fault injection in a child creator
    /// (named-create): only its first open of /dev/shm (-P, when=1: the O_TMPFILE one), its look at
    /// /proc/self/fd, or its linkat.
    /// </summary>
    [Theory]
    [InlineData("no-tmpfile")]
    [InlineData("no-proc")]
    [InlineData("no-link")]
    public void Without_O_TMPFILE_proc_or_linkat_the_creator_creates_the_name_first_and_the_channel_works(string missing)
    {
        string strace = RequiredTools.Strace(); // its fault injection fails the creator's system calls
        string name = _names.New("fallbackcreate");
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        string trace = Path.Combine(Path.GetTempPath(), $"uintripc-test-strace-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        string[] wrapper = missing == "no-tmpfile"
            ? [strace, "-f", "-qq", "-o", trace, "-P", SharedRegion.SharedMemoryDirectory, "-P", path, "-e", "trace=openat", "-e", "inject=openat:error=EOPNOTSUPP:when=1"]
            : missing == "no-proc"
            ? [strace, "-f", "-qq", "-o", trace, "-e", "trace=faccessat,faccessat2,openat,linkat", "-e", "inject=faccessat,faccessat2:error=ENOENT"]
            : [strace, "-f", "-qq", "-o", trace, "-e", "trace=openat,linkat", "-e", "inject=linkat:error=EPERM"];
        try
        {
            using var creator = PeerProcess.StartWrapped(output, wrapper, null, "named-create", "slot", name);
            creator.WaitForOutput("created", StartUp);
            using (var channel = IpcChannel.OpenNamed<long>(name, initTimeout: OpenTimeout))
            {
                Assert.True(channel.Writer.TryWrite(5));
            }

            creator.WriteLine("done");
            creator.AssertSuccess(StartUp);
            string[] calls = File.ReadAllLines(trace);
            output.WriteLine(string.Join('\n', calls.Where(l => l.Contains("INJECTED", StringComparison.Ordinal) || l.Contains(path, StringComparison.Ordinal))));
            Assert.Contains(calls, l => l.Contains("INJECTED", StringComparison.Ordinal) && (l.Contains("O_TMPFILE", StringComparison.Ordinal) || l.Contains("/proc/self/fd/", StringComparison.Ordinal)));
            Assert.Contains(calls, l => l.Contains($"\"{path}\"", StringComparison.Ordinal) && l.Contains("O_EXCL", StringComparison.Ordinal) && l.Contains(") = ", StringComparison.Ordinal) && !l.Contains("= -1", StringComparison.Ordinal));
            Assert.False(File.Exists(path)); // removed by its creator's dispose, as before
        }
        finally
        {
            File.Delete(trace);
        }
    }
}
