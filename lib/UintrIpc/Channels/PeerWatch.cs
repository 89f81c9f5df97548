using System.Diagnostics;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// Tells whether the other side of a channel has gone (uintripc.h section 4, liveness): the
/// processes known from a trusted source (pidfds: bootstrap peer credentials) have all exited,
/// or, for the consumer's side, its heartbeat word says it detached or, when neither a consumer
/// process nor a held reader role lock of a named channel names the consumer, its heartbeat
/// has stood still for longer than the peer timeout. The heartbeat is judged by our own clock from the moment we
/// last saw it change, so a peer's clock or a forged value can at worst make us wait the
/// timeout. Checks are rate-limited: a pidfd poll is a system call.
/// </summary>
internal sealed unsafe class PeerWatch : IDisposable
{
    private static readonly long s_checkInterval = Stopwatch.Frequency / 100; // 10 ms

    private readonly long* _heartbeat;
    private readonly long _timeoutTicks;
    private readonly string _peer;
    private readonly Lock _lock = new();
    private readonly List<ProcessHandle> _processes = [];
    /// <summary>Whether a named channel's writer role lock (or, for the consumer's watch, its reader role lock) is held (uintripc.h 1f), and whether its ring was ever written; or null.</summary>
    private readonly (Func<bool> Held, Func<bool> Written)? _role;
    private bool _roleSeen; // under _lock: the role was seen held once, so its release means the writers left
    private string? _roleGone; // the last role (or detach) check's verdict, not sticky (a new writer may take the role): written under _lock (Volatile.Write), read without it (Volatile.Read)
    private bool _roleHeld; // under _lock: the last role check found the role held, so a still heartbeat is no verdict
    /// <summary>Whether every writer that attached has detached (uintripc.h 4b), or null (the consumer's watch).</summary>
    private Func<bool>? WritersDetached { get; init; }
    /// <summary>Whether a writer of the reader's own channel object is attached (no verdict then), or null (the consumer's watch).</summary>
    private Func<bool>? OwnWriter { get; init; }
    /// <summary>Whether a named channel's creator lock is free (the consumer's watch), or null.</summary>
    private Func<bool>? CreatorGone { get; init; }
    private long _lastBeat; // under _lock
    private long _lastChange; // under _lock
    private long _lastCheck; // written under _lock (Volatile.Write), read without it (Volatile.Read): the rate limit
    // Sticky, but a writer process added later ends the producers' verdict (Add). Written under
    // _lock (Volatile.Write), read once without it by Gone's fast path (Volatile.Read): a string
    // is immutable, so the acquire only keeps the JIT from reusing an earlier load in a wait loop.
    private string? _gone;
    private bool _disposed; // under _lock

    private PeerWatch(long* heartbeat, TimeSpan timeout, string peer, (Func<bool> Held, Func<bool> Written)? role = null)
    {
        _heartbeat = heartbeat;
        _role = role;
        _timeoutTicks = WaitDeadline.ToTicks(timeout);
        _peer = peer;
        _lastChange = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// A producer's watch of its consumer: the channel's heartbeat word, processes added later, and
    /// for a named channel its reader role lock: held, the reader lives whatever its heartbeat does
    /// (a thread pool starved for seconds stops its timer); free, the heartbeat rule decides.
    /// </summary>
    internal static PeerWatch OfConsumer(ChannelCore channel)
        => new(channel.HeartbeatWord, channel.Wait.PeerTimeout, "consumer", channel.IsNamed ? (channel.ReaderRoleHeld, static () => false) : null)
        {
            CreatorGone = channel.IsNamed ? channel.CreatorGone : null,
            _roleSeen = channel.IsNamed && channel.ReaderRoleHeld(), // a reader when the writer came: see CheckRole
        };

    /// <summary>
    /// A consumer's watch of its producers: the processes added (no producer heartbeat exists), and
    /// for a named channel its writer role lock (<paramref name="role"/>): free once it was seen
    /// held or the ring was written, it means that every writer has gone; and the writers' detach
    /// mark (<paramref name="writersDetached"/>, uintripc.h 4b): every writer object that attached
    /// was disposed without completing (not sticky either). None while a writer of the reader's own
    /// channel object (<paramref name="ownWriter"/>) is attached.
    /// </summary>
    internal static PeerWatch OfProducers((Func<bool> Held, Func<bool> Written)? role = null, Func<bool>? writersDetached = null, Func<bool>? ownWriter = null)
        => new(null, TimeSpan.Zero, "producer", role) { WritersDetached = writersDetached, OwnWriter = ownWriter };

    /// <summary>
    /// Adds a peer process known from a trusted source; the watch owns the handle. After
    /// <see cref="Dispose"/> (a channel disposed while a handover added its watch) it is closed at once.
    /// A writer process added to the producers' watch ends its verdict that every writer process has exited.
    /// </summary>
    internal void Add(ProcessHandle process)
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _processes.Add(process);
                // A writer process handed the channel after the others exited (the producers'
                // watch: no heartbeat) is a new writer: "every one has exited" no longer holds,
                // and the next look runs now, not from a verdict of the last 10 ms.
                if (_heartbeat == null)
                {
                    Volatile.Write(ref _gone, null);
                }

                Volatile.Write(ref _lastCheck, 0);
                return;
            }
        }

        process.Dispose();
    }

    /// <summary>Whether a process added is still running: a writer that holds the channel now (a pidfd poll per process).</summary>
    internal bool AnyRunning
    {
        get
        {
            lock (_lock)
            {
                return _processes.Exists(static p => !p.HasExited);
            }
        }
    }

    /// <summary>
    /// Makes the next <see cref="Gone"/> look at the processes whatever the rate limit: one of
    /// them has just been seen to exit (under the lock, so a look in progress cannot store its
    /// time over this and hide the exit for a check interval).
    /// </summary>
    internal void LookAgain()
    {
        lock (_lock)
        {
            Volatile.Write(ref _lastCheck, 0);
        }
    }

    /// <summary>Why the peer is known to be gone, or null while it may be alive. Rate-limited.</summary>
    internal string? Gone
    {
        get
        {
            // A writer of the reader's own channel object lives: no verdict of processes, roles
            // or marks applies (review28; one load of this process's own count).
            if (OwnWriter?.Invoke() == true)
            {
                return null;
            }

            // One load: Add (another thread) may clear it between a check and a second load.
            string? gone = Volatile.Read(ref _gone);
            if (gone is not null)
            {
                return gone;
            }

            // Within the rate limit, the last verdict (acquire loads, no lock): while another
            // thread's look runs under the lock it may be the one before, at most a check interval late.
            long now = Stopwatch.GetTimestamp();
            if (now - Volatile.Read(ref _lastCheck) < s_checkInterval)
            {
                return Volatile.Read(ref _roleGone);
            }

            lock (_lock)
            {
                Volatile.Write(ref _lastCheck, now);
                string? roleGone = CheckRole(); // first: a reader role held makes a still heartbeat no verdict
                gone = _gone ?? CheckProcesses() ?? CheckHeartbeat(now); // plain load: written only under _lock
                Volatile.Write(ref _gone, gone);
                string? verdict = gone ?? roleGone ?? CheckDetached();
                Volatile.Write(ref _roleGone, gone is null ? verdict : null);
                return verdict;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _processes.ForEach(p => p.Dispose());
            _processes.Clear();
        }
    }

    /// <summary>Throws <see cref="PeerGoneException"/> when the peer is known to be gone.</summary>
    internal void ThrowIfGone()
    {
        if (Gone is { } reason)
        {
            throw new PeerGoneException(reason);
        }
    }

    private string? CheckProcesses()
    {
        if (_processes.Count == 0 || !_processes.TrueForAll(p => p.HasExited))
        {
            return null;
        }

        return _processes.Count == 1
            ? $"The {_peer} process (pid {_processes[0].Pid}) has exited without completing the channel."
            : $"Every {_peer} process ({string.Join(", ", _processes.Select(p => p.Pid))}) has exited without completing the channel.";
    }

    /// <summary>
    /// The role lock's verdict (one fcntl): gone when it is free now and was held before or (writers)
    /// the ring was written (a writer came and went between two looks). Not while a peer process
    /// got the channel by a handover: that one takes no lock, its process is watched instead.
    /// </summary>
    private string? CheckRole()
    {
        _roleHeld = false;
        if (_role is not { } role || _processes.Count != 0)
        {
            return null;
        }

        if (role.Held())
        {
            _roleSeen = _roleHeld = true;
            return null;
        }

        // The consumer's watch (the one with a heartbeat word) takes a free reader role for no
        // verdict while the creator lives: a killed reader restarted within the peer timeout takes
        // it again and reads on (KillTests), so the still heartbeat decides, as before. With the
        // creator gone too no new opener can come (OpenNamed refuses such a region; a restarted
        // creator makes a new one under the name): waiting the peer timeout would only stall the
        // writer (design-notes user43). But a process that opened the name before the creator left
        // may still make its Reader: only a reader seen (at the writer's start or a look since)
        // and gone makes the verdict (design-notes review31).
        if (_heartbeat != null)
        {
            return _roleSeen && CreatorGone?.Invoke() == true
                ? "The consumer of this named channel has gone, and so has the channel's creator: its reader role lock and its creator lock are both free (their processes exited, "
                    + "or they disposed their channel objects), so no reader can read this region again (OpenNamed refuses a region whose creator is gone; a restarted creator "
                    + "makes a new region under the name). Dispose this channel and open the name again once its creator runs."
                : null;
        }

        return _roleSeen || role.Written()
            ? $"Every {_peer} of this named channel has gone without completing it: its writer role lock is free (their processes exited, or they disposed their channel objects)."
            : null;
    }

    /// <summary>
    /// The writers' detach mark (uintripc.h 4b, acquire loads; the caller loads the state and the
    /// tail after it): every writer object that attached was disposed without completing. Not
    /// sticky: a writer that attaches later counts itself in again.
    /// </summary>
    private string? CheckDetached() => WritersDetached?.Invoke() == true
        ? "Every writer of this channel disposed its end without completing the channel (its process may still run), and everything written has been read: nothing more will come. "
            + "When a stream has ended, call Complete (or TryComplete) on the writer before disposing it; its reader then sees a normal end."
        : null;

    private string? CheckHeartbeat(long now)
    {
        if (_heartbeat == null)
        {
            return null;
        }

        long beat = Volatile.Read(ref *_heartbeat); // acquire; the consumer's word, untrusted
        if (beat == ConsumerHeartbeat.Detached)
        {
            return $"The {_peer} was disposed (its heartbeat says it detached) without completing the channel.";
        }

        if (beat != _lastBeat)
        {
            _lastBeat = beat;
            _lastChange = now;
            return null;
        }

        // 0: no consumer has attached yet; nothing to judge. A consumer process known by a pidfd
        // (bootstrap) is judged by it alone: CheckProcesses found it running, and a heartbeat that
        // stands still there means a slow process (its timer runs on the thread pool, which a busy
        // service starves for seconds; a loaded machine; a stopped debuggee), not a dead one. The
        // write's own timeout bounds that wait (design-notes "A production service's week (user39)").
        // So is a named channel's reader whose role lock is held (CheckRole, just before): the
        // kernel drops it with the process (design-notes readerlock).
        return beat != 0 && _processes.Count == 0 && !_roleHeld && now - _lastChange > _timeoutTicks
            ? $"The {_peer}'s heartbeat has not moved for {Stopwatch.GetElapsedTime(_lastChange, now).TotalSeconds:F1} s: its process has died or hangs."
            : null;
    }
}
