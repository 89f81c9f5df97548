namespace UintrIpc.Rpc;

/// <summary>
/// The threads that run handlers which may block (mapped with <see cref="RpcServer.MapBlocking"/>),
/// so one slow call does not stall a session's fast ones. A work item holds a lease on its
/// session, so the session's region stays mapped until the handler has returned.
/// </summary>
internal sealed class RpcWorkerPool : IDisposable
{
    private readonly Queue<WorkItem> _queue = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly Thread[] _threads;
    private volatile bool _stopping;

    internal RpcWorkerPool(int threads)
    {
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"rpc worker {i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Hands a blocking call to the workers; false once <see cref="Dispose(long)"/> began (nobody may run it: answer it at once).</summary>
    internal bool TryEnqueue(RpcServerSession session, in RpcWireRequest request, RpcHandler handler)
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return false; // the workers may be gone: the item would keep its session lease for good
            }

            _queue.Enqueue(new WorkItem(session, request, handler));
        }

        _available.Release();
        return true;
    }

    /// <summary>Stops the workers once the queue is empty; a handler blocked forever keeps its (background) thread.</summary>
    public void Dispose() => Dispose(Environment.TickCount64 + 5_000);

    /// <summary>As <see cref="Dispose()"/>, waiting for the workers until <paramref name="deadline"/> (Environment.TickCount64) in all.</summary>
    internal void Dispose(long deadline)
    {
        lock (_lock)
        {
            _stopping = true; // under the lock: an item TryEnqueue queued before is in the queue the workers drain first
        }

        _available.Release(_threads.Length);
        foreach (var thread in _threads)
        {
            RpcServer.JoinUnlessCurrent(thread, deadline);
        }
    }

    private void Work()
    {
        while (true)
        {
            _available.Wait();
            WorkItem item;
            lock (_lock)
            {
                if (!_queue.TryDequeue(out item))
                {
                    if (_stopping)
                    {
                        return;
                    }

                    continue;
                }
            }

            item.Session.RunBlocking(item.Request, item.Handler);
        }
    }

    private readonly record struct WorkItem(RpcServerSession Session, RpcWireRequest Request, RpcHandler Handler);
}
