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

    internal void Enqueue(RpcServerSession session, in RpcWireRequest request, RpcHandler handler)
    {
        lock (_lock)
        {
            _queue.Enqueue(new WorkItem(session, request, handler));
        }

        _available.Release();
    }

    /// <summary>Stops the workers once the queue is empty; a handler blocked forever keeps its (background) thread.</summary>
    public void Dispose() => Dispose(Environment.TickCount64 + 5_000);

    /// <summary>As <see cref="Dispose()"/>, waiting for the workers until <paramref name="deadline"/> (Environment.TickCount64) in all.</summary>
    internal void Dispose(long deadline)
    {
        _stopping = true;
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
