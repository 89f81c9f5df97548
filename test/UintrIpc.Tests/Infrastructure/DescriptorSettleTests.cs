using System.Runtime.CompilerServices;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Tests.Bootstrap;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// The leak check itself: a descriptor whose owner is dropped without Dispose is reported even
/// when a GC finalizes the owner while the check waits, and one that another thread's Dispose
/// closes a moment later still settles.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DescriptorSettleTests
{
    [Fact]
    public void A_descriptor_that_only_a_finalizer_closes_is_reported()
    {
        var before = TestFds.Snapshot();
        var holder = new StrongBox<SafeFdHandle?>();
        int fd = OpenInto(holder); // in a frame of its own: tier-0 code keeps a caller's temporaries alive to the method's end
        int polls = 0;
        string report = DescriptorSettle.Added(() =>
        {
            string mine = Mine(TestFds.Added(before), fd);
            if (polls++ == 0)
            {
                holder.Value = null; // dropped without Dispose, after the first look saw it open
            }
            else if (polls == 2)
            {
                // What another test's allocations do at any time: the GC finds the owner dead, its finalizer closes the descriptor.
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            return mine;
        });
        Assert.True(polls >= 3, $"the check stopped after {polls} looks");
        Assert.Contains($"{fd} -> anon_inode:[eventfd]", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_descriptor_that_another_thread_disposes_a_moment_later_settles()
    {
        var before = TestFds.Snapshot();
        SafeFdHandle handle = OpenEventFd();
        int fd = handle.Fd;
        var closer = new Thread(() =>
        {
            Thread.Sleep(100);
            handle.Dispose();
        });
        closer.Start();
        try
        {
            Assert.Equal("", DescriptorSettle.Added(() => Mine(TestFds.Added(before), fd)));
        }
        finally
        {
            Assert.True(closer.Join(TimeSpan.FromSeconds(10)));
            handle.Dispose();
        }
    }

    /// <summary>The report's entry for <paramref name="fd"/> only: other collections' tests open and close descriptors meanwhile.</summary>
    private static string Mine(string report, int fd)
        => string.Join(", ", report.Split(", ").Where(e => e.StartsWith($"{fd} -> ", StringComparison.Ordinal)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int OpenInto(StrongBox<SafeFdHandle?> holder)
    {
        holder.Value = OpenEventFd();
        return holder.Value.Fd;
    }

    private static SafeFdHandle OpenEventFd()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        return fd >= 0 ? new SafeFdHandle(fd, ownsHandle: true) : throw UintrIpcException.FromLastError("eventfd");
    }
}
