using System.Runtime.InteropServices;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// Which doorbells work on this machine (each checked by a quick functional self-test, kept
/// for the process once conclusive), the best one to use, and the senders and receivers of each kind. Users see it
/// through <see cref="Channels.IpcChannel.IsDoorbellAvailable"/> and <see cref="Channels.IpcChannel.DefaultDoorbell"/>.
/// </summary>
internal static unsafe class Doorbells
{
    /// <summary>
    /// How long a self-test on its own thread may go without progress (its thread starting, its
    /// test returning) before its result is inconclusive: a busy machine, not a verdict on the kind.
    /// </summary>
    internal static readonly TimeSpan SelfTestLimit = TimeSpan.FromSeconds(5);

    // One self-test per kind, run on its first use: a channel with an explicit futex doorbell
    // does not pay for the signal and simulation self-tests (threads, a blocked signal).
    private static readonly Func<DoorbellCapability>[] s_selfTests =
    [
        () => new(DoorbellKind.None, true, "polling only; always available, keeps a core busy"),
        () => Guard(DoorbellKind.Futex, TestFutex),
        () => Guard(DoorbellKind.EventFd, TestEventFd),
        () => GuardOnOwnThread(DoorbellKind.Signal, () => SignalDoorbellReceiver.SelfTestOnThisThread(), "UintrIpc signal self-test", SelfTestLimit),
        DetectUintr,
        DetectUintrSimulated,
    ];

    // Kept for the process once conclusive; an inconclusive result is replaced by a fresh Lazy (Check).
    private static readonly Lazy<DoorbellCapability>[] s_capabilities = [.. s_selfTests.Select(Once)];

    /// <summary>The capability of every kind, in <see cref="DoorbellKind"/> order (the CLI and the bench report them).</summary>
    internal static IReadOnlyList<DoorbellCapability> All => [.. Enum.GetValues<DoorbellKind>().Order().Select(Check)];

    /// <summary>The default doorbell (why: <see cref="Channels.IpcChannel.DefaultDoorbell"/>).</summary>
    public static DoorbellKind Best
    {
        get
        {
            foreach (var kind in (ReadOnlySpan<DoorbellKind>)[DoorbellKind.Futex, DoorbellKind.EventFd])
            {
                // A futex check that failed for want of the shim stays the default: Choose refuses
                // it with what to deploy, rather than a named channel silently getting an eventfd
                // its writers cannot open by name (design-notes user43).
                DoorbellCapability capability = Check(kind);
                if (capability.IsAvailable || capability.IsShimMissing)
                {
                    return kind;
                }
            }

            return DoorbellKind.None;
        }
    }

    /// <summary>
    /// The capability of <paramref name="kind"/>: its self-test runs on the first call for that
    /// kind (callers at the same moment wait for the one run) and its verdict is kept for the
    /// process. A self-test that ran out of time is not kept: one busy moment must not decide for
    /// the life of the process, so the next call tests again (review18).
    /// </summary>
    internal static DoorbellCapability Check(DoorbellKind kind)
    {
        if ((uint)kind >= (uint)s_capabilities.Length)
        {
            return new DoorbellCapability(kind, false, "unknown doorbell kind");
        }

        Lazy<DoorbellCapability> once = Volatile.Read(ref s_capabilities[(int)kind]);
        DoorbellCapability capability = once.Value;
        if (capability.IsInconclusive)
        {
            // Only the first caller to see this run replaces it (full fence, CAS).
            Interlocked.CompareExchange(ref s_capabilities[(int)kind], Once(Volatile.Read(ref s_selfTests[(int)kind])), once);
        }

        return capability;
    }

    /// <summary>
    /// Test seam: runs <paramref name="selfTest"/> as the self-test of <paramref name="kind"/> from
    /// the next check on (forgetting the kept verdict); returns the self-test it replaced, to put back.
    /// </summary>
    internal static Func<DoorbellCapability> ReplaceSelfTest(DoorbellKind kind, Func<DoorbellCapability> selfTest)
    {
        Func<DoorbellCapability> replaced = Interlocked.Exchange(ref s_selfTests[(int)kind], selfTest);
        Volatile.Write(ref s_capabilities[(int)kind], Once(selfTest));
        return replaced;
    }

    /// <summary>Whether <paramref name="kind"/> works on this machine.</summary>
    public static bool IsAvailable(DoorbellKind kind) => Check(kind).IsAvailable;

    /// <summary>
    /// The doorbell a creator asked for in <paramref name="option"/>, or <see cref="Best"/> when it
    /// asked for none; refused at once when its self-test found that this machine cannot ring it,
    /// so that the failure comes where the choice was made, not later at the reader or the writer.
    /// A self-test that ran out of time found nothing: the explicit choice stands (the reader
    /// fails as before if the kind really cannot work) rather than a busy moment refusing it.
    /// </summary>
    /// <param name="requested">The explicit choice, or null for the default.</param>
    /// <param name="option">Where the choice was made, for the message (e.g. "IpcChannelOptions.Doorbell").</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="requested"/> failed its check here (<see cref="Require"/>), or it (or the default) needs the native shim and this process was deployed without it.</exception>
    internal static DoorbellKind Choose(DoorbellKind? requested, string option)
    {
        // Without the shim, the default and an explicit futex or uintr alike: what to deploy, and
        // the one kind that runs without it (not "leave it null", which is futex again).
        DoorbellKind kind = requested ?? Best;
        DoorbellCapability capability = Check(kind);
        if (capability.IsShimMissing)
        {
            throw Refusal(capability, WithoutShimAdvice(option));
        }

        return requested is null ? kind
            : Require(kind, $"Leave {option} null for the default (IpcChannel.DefaultDoorbell, {Best} here) or choose a kind IpcChannel.IsDoorbellAvailable accepts");
    }

    /// <summary>
    /// Whether this process was deployed without the native shim (libuintripc.so): the futex
    /// self-test, whose verdict is kept for the process, is the probe of its load.
    /// </summary>
    internal static bool IsShimMissing => Check(DoorbellKind.Futex).IsShimMissing;

    /// <summary>
    /// Refuses an end of an existing channel whose doorbell (futex, uintr) calls the shim, in a
    /// process deployed without it: at once, saying what to deploy, rather than a bare
    /// DllNotFoundException at the first wake or wait, after a message was published (review31).
    /// </summary>
    private static void ThrowIfShimMissing(DoorbellKind kind)
    {
        if (kind is DoorbellKind.Futex or DoorbellKind.Uintr or DoorbellKind.UintrSimulated && Check(DoorbellKind.Futex) is { IsShimMissing: true } shim)
        {
            throw Refusal(shim with { Kind = kind }, "Its creator chose this doorbell: every process that reads or writes the channel needs the shim, this one too");
        }
    }

    /// <summary>
    /// Whether <paramref name="kind"/> may be offered: its self-test passed, or ran out of time (no
    /// verdict, so the choice stands, as in <see cref="Choose"/>).
    /// </summary>
    internal static bool MayUse(DoorbellKind kind) => MayUse(Check(kind));

    /// <summary>
    /// <paramref name="kind"/>, unless its self-test found that this machine cannot ring it: then a
    /// <see cref="PlatformNotSupportedException"/> with the reason and <paramref name="instead"/> (what to do).
    /// </summary>
    internal static DoorbellKind Require(DoorbellKind kind, string instead)
    {
        DoorbellCapability capability = Check(kind);
        return MayUse(capability) ? kind : throw Refusal(capability, instead);
    }

    /// <summary>Why a doorbell that came with an existing channel and failed its check cannot be used.</summary>
    /// <param name="capability">The failed check.</param>
    internal static PlatformNotSupportedException Refusal(DoorbellCapability capability)
        => Refusal(capability, "Create the channel with a doorbell this machine can ring");

    /// <summary>What to deploy when a doorbell needs the native shim and it is not beside the application.</summary>
    private const string ShimDeployAdvice =
        "The native shim libuintripc.so ships in the UintrIpc package (runtimes/linux-x64/native/) and must be deployed with the application: "
        + "dotnet build and dotnet publish (NativeAOT and self-contained too) put it in the output folder, beside the program; copy it along with the program.";

    /// <summary>How a creator runs without the shim.</summary>
    private static string WithoutShimAdvice(string option)
        => $"To run without it, set {option} to DoorbellKind.EventFd explicitly (its channels are handed over a bootstrap connection: a writer cannot open them by name)";

    private static bool MayUse(DoorbellCapability capability) => capability.IsAvailable || capability.IsInconclusive;

    /// <summary>Why a doorbell that failed its check cannot be used, and <paramref name="instead"/>, what to do.</summary>
    private static PlatformNotSupportedException Refusal(DoorbellCapability capability, string instead)
        => new($"The {capability.Kind} doorbell cannot work on this machine: {capability.Reason}. {(capability.IsShimMissing ? ShimDeployAdvice + " " : string.Empty)}{instead}.");

    /// <summary>
    /// Creates the consumer's receiver of <paramref name="kind"/> for <paramref name="waitBlock"/>.
    /// Create signal and uintr receivers on the consumer thread that will wait (they bind to it).
    /// </summary>
    /// <exception cref="NotSupportedException">An unknown kind.</exception>
    /// <exception cref="PlatformNotSupportedException">Real user interrupts on a machine without them (see <see cref="UintrSupport.Reason"/>), or a futex or uintr doorbell in a process deployed without the native shim.</exception>
    internal static DoorbellReceiver CreateReceiver(DoorbellKind kind, WaitBlock waitBlock)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        ThrowIfShimMissing(kind);
        return kind switch
        {
            DoorbellKind.None => new NoDoorbellReceiver(),
            DoorbellKind.Futex => new FutexDoorbellReceiver(waitBlock),
            DoorbellKind.EventFd => new EventFdDoorbellReceiver(),
            DoorbellKind.Signal => new SignalDoorbellReceiver(waitBlock),
            DoorbellKind.Uintr => new UintrDoorbellReceiver(vector: 0, simulated: false),
            DoorbellKind.UintrSimulated => new UintrDoorbellReceiver(vector: 0, simulated: true),
            _ => throw new NotSupportedException($"Unknown doorbell kind {kind}."),
        };
    }

    /// <summary>Creates a producer's sender of <paramref name="kind"/> for the consumer of <paramref name="waitBlock"/>.</summary>
    /// <param name="kind">The kind the consumer waits in (<see cref="WaitBlock.ConsumerDoorbellKind"/> once it parked).</param>
    /// <param name="waitBlock">The consumer's wait block.</param>
    /// <param name="fd">For <see cref="DoorbellKind.EventFd"/>: the consumer's eventfd; for the uintr kinds: the consumer's vector fd (received from it);
    /// for <see cref="DoorbellKind.Signal"/>: a pidfd of the consumer's process when it is another process (see <see cref="SignalDoorbellSender"/>), null when it is this one.</param>
    /// <exception cref="ArgumentException">An eventfd or uintr sender without <paramref name="fd"/>.</exception>
    /// <exception cref="NotSupportedException">An unknown kind.</exception>
    /// <exception cref="PlatformNotSupportedException">A futex or uintr doorbell in a process deployed without the native shim.</exception>
    internal static DoorbellSender CreateSender(DoorbellKind kind, WaitBlock waitBlock, SafeHandle? fd = null)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        ThrowIfShimMissing(kind);
        return kind switch
        {
            DoorbellKind.None => new NoDoorbellSender(),
            DoorbellKind.Futex => new FutexDoorbellSender(waitBlock),
            DoorbellKind.EventFd => new EventFdDoorbellSender(fd ?? throw new ArgumentException("An eventfd sender needs the consumer's eventfd.", nameof(fd))),
            DoorbellKind.Signal => fd is null ? new SignalDoorbellSender(waitBlock) : new SignalDoorbellSender(waitBlock, fd),
            DoorbellKind.Uintr or DoorbellKind.UintrSimulated => new UintrDoorbellSender(
                AsFdHandle(fd ?? throw new ArgumentException("A uintr sender needs the consumer's vector fd.", nameof(fd))),
                simulated: kind == DoorbellKind.UintrSimulated),
            _ => throw new NotSupportedException($"Unknown doorbell kind {kind}."),
        };
    }

    /// <summary>Maps the shim's layered detection (uintr-abi.md §5.1) to a capability; never probes by syscall number.</summary>
    internal static DoorbellCapability DetectUintr()
    {
        try
        {
            var support = UintrSupport.Detect();
            return new(DoorbellKind.Uintr, support.IsAvailable,
                support.IsAvailable ? $"user interrupts available (kernel ABI variant {support.Variant})" : support.Reason);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return ShimMissing(DoorbellKind.Uintr, e);
        }
    }

    /// <summary>
    /// The uintr simulation (a software model in the shim, for tests): a self-send on a
    /// dedicated thread. Whatever it reports, <see cref="Best"/> never picks it.
    /// </summary>
    internal static DoorbellCapability DetectUintrSimulated()
    {
        DoorbellCapability c = GuardOnOwnThread(DoorbellKind.UintrSimulated, () =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 0, simulated: true);
            using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            uint token = receiver.PrepareToWait();
            sender.Ring();
            return receiver.Wait(token, TimeSpan.FromSeconds(1)) ? null : "a simulated self-send did not wake the receiver";
        }, "uintr-sim self-test", SelfTestLimit);
        return c.IsAvailable ? c with { Reason = "software simulation of user interrupts (not hardware); for tests, never chosen automatically" } : c;
    }

    /// <summary>
    /// Runs <paramref name="test"/> (see <see cref="Guard"/>) on a thread of its own (signal and
    /// uintr receivers bind to their thread and change its state). The limit counts from the last
    /// progress (the thread's start, then its end): out of time, the result is inconclusive, and
    /// the thread, a background one, is left to finish.
    /// </summary>
    internal static DoorbellCapability GuardOnOwnThread(DoorbellKind kind, Func<string?> test, string threadName, TimeSpan limit)
    {
        DoorbellCapability result = default;
        int progress = 0;
        var thread = new Thread(() =>
        {
            Interlocked.Increment(ref progress);
            result = Guard(kind, test);
        })
        { IsBackground = true, Name = threadName };
        thread.Start();
        int seen = 0;
        while (!thread.Join(limit))
        {
            int now = Volatile.Read(ref progress);
            if (now == seen)
            {
                return new(kind, false, $"the self-test did not finish within {limit.TotalSeconds:0.###} s of its last progress (a busy machine?); it runs again on the next check")
                {
                    IsInconclusive = true,
                };
            }

            seen = now;
        }

        return result; // Join: the thread's write is visible
    }

    /// <summary>The verdict on <paramref name="kind"/> when the shim it calls could not be loaded (<paramref name="e"/>: DllNotFound or EntryPointNotFound).</summary>
    private static DoorbellCapability ShimMissing(DoorbellKind kind, Exception e)
        => new(kind, false, $"the native shim could not be loaded: {e.Message}") { IsShimMissing = true };

    private static Lazy<DoorbellCapability> Once(Func<DoorbellCapability> detect) => new(detect, LazyThreadSafetyMode.ExecutionAndPublication);

    private static DoorbellCapability Guard(DoorbellKind kind, Func<string?> test)
    {
        try
        {
            string? failure = test();
            return new(kind, failure is null, failure ?? "self-test passed");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return ShimMissing(kind, e);
        }
        catch (Exception e) when (e is UintrIpcException or InvalidOperationException or PlatformNotSupportedException)
        {
            return new(kind, false, e.Message);
        }
    }

    private static string? TestFutex()
    {
        uint word = 1;
        // The word does not hold 0: FUTEX_WAIT must refuse at once (EAGAIN).
        int rc = Shim.FutexWait(&word, 0, 1_000_000);
        if (rc != Shim.FutexValueChanged)
        {
            return rc < 0 ? $"FUTEX_WAIT failed with errno {-rc}" : $"FUTEX_WAIT on a changed word returned {rc}, expected EAGAIN";
        }

        // The word holds 1: a 1 µs wait must time out.
        rc = Shim.FutexWait(&word, 1, 1_000);
        if (rc != Shim.FutexTimedOut)
        {
            return rc < 0 ? $"FUTEX_WAIT failed with errno {-rc}" : $"FUTEX_WAIT with a 1 µs timeout returned {rc}, expected a timeout";
        }

        rc = Shim.FutexWake(&word, 1);
        return rc < 0 ? $"FUTEX_WAKE failed with errno {-rc}" : null;
    }

    private static string? TestEventFd()
    {
        using var receiver = new EventFdDoorbellReceiver();
        using var sender = new EventFdDoorbellSender(receiver.FileHandle);
        if (receiver.Wait(0, TimeSpan.Zero))
        {
            return "a fresh eventfd was readable";
        }

        sender.Ring();
        sender.Ring();
        if (!receiver.Wait(0, TimeSpan.Zero))
        {
            return "a written eventfd was not readable";
        }

        return receiver.Wait(0, TimeSpan.Zero) ? "reading the eventfd did not reset it" : null;
    }

    private static SafeFdHandle AsFdHandle(SafeHandle fd)
        => fd as SafeFdHandle ?? new SafeFdHandle((int)fd.DangerousGetHandle(), ownsHandle: false);
}
