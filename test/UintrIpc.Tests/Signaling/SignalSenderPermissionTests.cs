using System.Diagnostics;
using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// The signal-doorbell sender's check of kill(2)'s permission at creation (user44, signal 0):
/// an EPERM refuses the sender only while the pidfd's process lives. A handover's pidfd may be of
/// a peer that exited since (SO_PEERPIDFD, ProcessHandle.FromOwnedPidFd); its pid may then name
/// another user's process, whose EPERM says nothing about the consumer.
/// </summary>
public sealed partial class SignalSenderPermissionTests
{
    private const int Nobody = 65534;
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_sender_whose_consumer_exited_is_not_refused_for_the_EPERM_of_a_process_that_reused_its_pid()
    {
        Assert.SkipUnless(LibC.geteuid() == 0, "needs root: a thread of this test becomes uid 65534 to get EPERM from tgkill");
        Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.X64, "the raw setresuid number is x86-64's");
        using var block = new WaitBlockRegion();
        using var live = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!; // root's: another user's to the thread below
        using var gone = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        try
        {
            int goneFd = Sys.PidFdOpen(gone.Id);
            Assert.True(goneFd >= 0, $"pidfd_open({gone.Id}) failed: errno {Marshal.GetLastPInvokeError()}");
            var goneHandle = new SafeFdHandle(goneFd, ownsHandle: true);
            gone.Kill();
            Assert.True(gone.WaitForExit(s_wait), "the child did not exit");
            // The pid reused, as it may be once the peer has exited: its pidfd, another user's live pid.
            ProcessHandle reused = ProcessHandle.FromOwnedPidFd(live.Id, goneHandle);
            TestWait.Until(() => reused.HasExited, "the pidfd to report the exit", s_wait);

            Exception? control = null, wrong = null, asUser = null;
            // Every exception caught on the thread (an unhandled one would end the test host), asserted after the join.
            var thread = new Thread(() => asUser = Record.Exception(() => AsUser(Nobody, () =>
            {
                // The control: a live consumer of another user is refused (the check works on this thread).
                control = Record.Exception(() => new SignalDoorbellSender(block.Block, ProcessHandle.Open(live.Id)).Dispose());
                wrong = Record.Exception(() => new SignalDoorbellSender(block.Block, reused).Dispose());
            })));
            thread.Start();
            Assert.True(thread.Join(s_wait), "the unprivileged thread did not finish");
            Assert.Null(asUser);

            var refused = Assert.IsType<UintrIpcException>(control);
            Assert.Contains("Use the futex or eventfd doorbell", refused.Message, StringComparison.Ordinal);
            Assert.Null(wrong); // the consumer exited: its rings are skipped, nobody is blamed for another user's EPERM
        }
        finally
        {
            live.Kill();
            live.WaitForExit(s_wait);
            if (!gone.HasExited)
            {
                gone.Kill();
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> on this thread as <paramref name="uid"/> (real and effective; saved 0, restored after): the raw syscall changes this thread alone, glibc's setresuid would change every thread.</summary>
    private static void AsUser(int uid, Action action)
    {
        const long SetResUid = 117; // x86-64
        Assert.Equal(0, Syscall3(SetResUid, uid, uid, 0));
        try
        {
            action();
        }
        finally
        {
            Assert.Equal(0, Syscall3(SetResUid, 0, 0, 0));
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall3(long number, long arg1, long arg2, long arg3);
}
