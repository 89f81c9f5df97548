using System.Runtime.InteropServices;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// Which doorbells work on this machine (each checked by a quick functional self-test, once
/// per process), the best one to use, and the senders and receivers of each kind. Users see it
/// through <see cref="Channels.IpcChannel.IsDoorbellAvailable"/> and <see cref="Channels.IpcChannel.DefaultDoorbell"/>.
/// </summary>
internal static unsafe class Doorbells
{
    // One self-test per kind, run on its first use: a channel with an explicit futex doorbell
    // does not pay for the signal and simulation self-tests (threads, a blocked signal).
    private static readonly Lazy<DoorbellCapability>[] s_capabilities =
    [
        Once(() => new(DoorbellKind.None, true, "polling only; always available, keeps a core busy")),
        Once(() => Guard(DoorbellKind.Futex, TestFutex)),
        Once(() => Guard(DoorbellKind.EventFd, TestEventFd)),
        Once(() => Guard(DoorbellKind.Signal, () => SignalDoorbellReceiver.SelfTest())),
        Once(DetectUintr),
        Once(DetectUintrSimulated),
    ];

    /// <summary>The capability of every kind, in <see cref="DoorbellKind"/> order (the CLI and the bench report them).</summary>
    internal static IReadOnlyList<DoorbellCapability> All => [.. s_capabilities.Select(c => c.Value)];

    /// <summary>The default doorbell (why: <see cref="Channels.IpcChannel.DefaultDoorbell"/>).</summary>
    public static DoorbellKind Best
    {
        get
        {
            foreach (var kind in (ReadOnlySpan<DoorbellKind>)[DoorbellKind.Futex, DoorbellKind.EventFd])
            {
                if (IsAvailable(kind))
                {
                    return kind;
                }
            }

            return DoorbellKind.None;
        }
    }

    /// <summary>The capability of <paramref name="kind"/> (its self-test runs on the first call for that kind).</summary>
    internal static DoorbellCapability Check(DoorbellKind kind)
        => (uint)kind < (uint)s_capabilities.Length ? s_capabilities[(int)kind].Value : new DoorbellCapability(kind, false, "unknown doorbell kind");

    /// <summary>Whether <paramref name="kind"/> works on this machine.</summary>
    public static bool IsAvailable(DoorbellKind kind) => Check(kind).IsAvailable;

    /// <summary>
    /// The doorbell a creator asked for in <paramref name="option"/>, or <see cref="Best"/> when it
    /// asked for none; refused at once when this machine cannot ring it, so that the failure
    /// comes where the choice was made, not later at the reader or the writer.
    /// </summary>
    /// <param name="requested">The explicit choice, or null for the default.</param>
    /// <param name="option">Where the choice was made, for the message (e.g. "IpcChannelOptions.Doorbell").</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="requested"/> failed its check here (<see cref="Refusal"/>).</exception>
    internal static DoorbellKind Choose(DoorbellKind? requested, string option)
    {
        if (requested is not { } kind)
        {
            return Best;
        }

        DoorbellCapability capability = Check(kind);
        return capability.IsAvailable ? kind : throw Refusal(capability, option);
    }

    /// <summary>Why a doorbell that failed its check cannot be used, and what to choose instead.</summary>
    /// <param name="capability">The failed check.</param>
    /// <param name="option">Where the doorbell was chosen; null when it came with an existing channel.</param>
    internal static PlatformNotSupportedException Refusal(DoorbellCapability capability, string? option)
    {
        string instead = option is null
            ? "Create the channel with a doorbell this machine can ring"
            : $"Leave {option} null for the default (IpcChannel.DefaultDoorbell, {Best} here) or choose a kind IpcChannel.IsDoorbellAvailable accepts";
        return new PlatformNotSupportedException(
            $"The {capability.Kind} doorbell cannot work on this machine: {capability.Reason}. {instead}.");
    }

    /// <summary>
    /// Creates the consumer's receiver of <paramref name="kind"/> for <paramref name="waitBlock"/>.
    /// Create signal and uintr receivers on the consumer thread that will wait (they bind to it).
    /// </summary>
    /// <exception cref="NotSupportedException">An unknown kind.</exception>
    /// <exception cref="PlatformNotSupportedException">Real user interrupts on a machine without them (see <see cref="UintrSupport.Reason"/>).</exception>
    internal static DoorbellReceiver CreateReceiver(DoorbellKind kind, WaitBlock waitBlock)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
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
    internal static DoorbellSender CreateSender(DoorbellKind kind, WaitBlock waitBlock, SafeHandle? fd = null)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
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
            return new(DoorbellKind.Uintr, false, $"the native shim could not be loaded: {e.Message}");
        }
    }

    /// <summary>
    /// The uintr simulation (a software model in the shim, for tests): a self-send on a
    /// dedicated thread. Whatever it reports, <see cref="Best"/> never picks it.
    /// </summary>
    internal static DoorbellCapability DetectUintrSimulated()
    {
        string? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var receiver = new UintrDoorbellReceiver(vector: 0, simulated: true);
                using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
                uint token = receiver.PrepareToWait();
                sender.Ring();
                failure = receiver.Wait(token, TimeSpan.FromSeconds(1)) ? null : "a simulated self-send did not wake the receiver";
            }
            catch (Exception e) when (e is UintrIpcException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException or PlatformNotSupportedException)
            {
                failure = e.Message;
            }
        })
        { IsBackground = true, Name = "uintr-sim self-test" };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(5)))
        {
            failure = "the simulated self-test did not finish within 5 s";
        }

        return new(DoorbellKind.UintrSimulated, failure is null,
            failure ?? "software simulation of user interrupts (not hardware); for tests, never chosen automatically");
    }

    private static Lazy<DoorbellCapability> Once(Func<DoorbellCapability> detect) => new(detect, LazyThreadSafetyMode.ExecutionAndPublication);

    private static DoorbellCapability Guard(DoorbellKind kind, Func<string?> test)
    {
        try
        {
            string? failure = test();
            return new(kind, failure is null, failure ?? "self-test passed");
        }
        catch (Exception e) when (e is UintrIpcException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
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
