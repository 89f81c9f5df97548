using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// A dedicated (non-pool) thread for a user-interrupt receiver, which belongs to the thread
/// that creates it. Exceptions are carried back to the test; joins are bounded.
/// </summary>
internal sealed class UintrTestThread
{
    /// <summary>Bound on every join and every "wait until" in these tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Thread _thread;
    private ExceptionDispatchInfo? _error;

    private UintrTestThread(Action body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "uintr receiver (test)",
        };
    }

    /// <summary>Starts <paramref name="body"/> on a new thread.</summary>
    public static UintrTestThread Start(Action body)
    {
        var t = new UintrTestThread(body);
        t._thread.Start();
        return t;
    }

    /// <summary>Runs <paramref name="body"/> on a new thread and returns its result (bounded).</summary>
    public static T Run<T>(Func<T> body)
    {
        T result = default!;
        Start(() => result = body()).Join();
        return result;
    }

    /// <summary>Runs <paramref name="body"/> on a new thread (bounded).</summary>
    public static void Run(Action body) => Start(body).Join();

    /// <summary>Whether the thread still runs.</summary>
    public bool IsAlive => _thread.IsAlive;

    /// <summary>Waits for the thread (bounded) and rethrows what it threw.</summary>
    public void Join()
    {
        if (!_thread.Join(Timeout))
        {
            throw new TimeoutException($"the receiver thread did not finish within {Timeout.TotalSeconds} s");
        }

        _error?.Throw();
    }

    /// <summary>
    /// Waits (bounded) until OS thread <paramref name="tid"/> of this process is blocked in
    /// FUTEX_WAIT on <paramref name="address"/>, read from /proc/self/task/&lt;tid&gt;/syscall
    /// ("202 0x&lt;uaddr&gt; ..." on x86-64). This proves a wait really sleeps before a test sends.
    /// </summary>
    public static void WaitUntilBlockedInFutex(int tid, ulong address, Func<bool>? stillRunning = null)
    {
        string path = $"/proc/self/task/{tid}/syscall";
        string expected = $"202 0x{address.ToString("x", CultureInfo.InvariantCulture)} ";
        long deadline = Stopwatch.GetTimestamp() + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
        string last = "";
        while (Stopwatch.GetTimestamp() < deadline)
        {
            try
            {
                last = File.ReadAllText(path);
            }
            catch (IOException)
            {
                last = "(thread gone)";
            }

            if (last.StartsWith(expected, StringComparison.Ordinal))
            {
                return;
            }

            if (stillRunning is not null && !stillRunning())
            {
                throw new InvalidOperationException($"thread {tid} stopped before it blocked; last {path}: {last}");
            }

            Thread.Sleep(1);
        }

        throw new TimeoutException($"thread {tid} did not block in FUTEX_WAIT on 0x{address:x}; last {path}: {last}");
    }
}
