using System.Threading.Tasks.Sources;

namespace UintrIpc.Rpc;

// One call slot (uintripc_rpc.h section 2), private memory, freed only when nobody can write
// into it any more. Ticket = generation << 32 | 1 while a response may come: the reader role's
// holder (routing the response, or failing a lost session's calls) takes the server side by
// clearing bit 0 once it has checked the generation, so a stale or duplicate id never completes
// the current call, even while the slot is reused. Only that role clears tickets and a slot is
// armed again only after it was freed, so this needs no CAS. State: Pending -> Completed | Failed
// (server side) or Abandoned (the caller's timeout or cancellation); the first CAS wins. Two
// holds (server side, caller): the slot and its arena block are freed when both are dropped; a
// synchronous caller that routes its own answer as the reader keeps the server's hold and drops
// both at once. Slot 0 is the reader's (RpcClient.CallAsReader): only the role's holder uses it,
// so its state changes are plain and it has no holds.

/// <summary>One call slot: the state of a call in flight, and the value-task source of an asynchronous one.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Event never allocates its wait handle here (Wait with a timeout, no WaitHandle); slots live as long as their client.")]
internal sealed class RpcCallSlot : IValueTaskSource<RpcResult>
{
    internal const int Free = 0;
    internal const int Pending = 1;
    internal const int Completed = 2;
    internal const int Failed = 3;
    internal const int Abandoned = 4;

    private static readonly Action<object?, CancellationToken> s_onCancel = static (state, token) => ((RpcCallSlot)state!).Owner.Cancel((RpcCallSlot)state!, token);

    internal readonly RpcClient Owner;
    internal readonly uint Index;
    internal readonly ManualResetEventSlim Event = new(initialState: false, spinCount: 1);

    internal long Ticket;
    internal int State;
    internal int Holds;
    internal uint Generation;
    internal long Result;
    internal int OutLength;
    internal long DataOffset;
    internal int BlockLength;
    internal int OutCapacity;
    internal int SyncWaiting;
    internal bool IsAsync;
    /// <summary>The caller routed its own answer and still holds the server's hold too (RpcClient.Finish); its thread only.</summary>
    internal bool ServerHoldKept;
    internal Memory<byte> AsyncOutput;
    internal ManualResetValueTaskSourceCore<RpcResult> Core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;

    internal RpcCallSlot(RpcClient owner, uint index)
    {
        Owner = owner;
        Index = index;
    }

    /// <summary>Starts a new generation: the id of the call about to be submitted.</summary>
    internal ulong Arm(bool isAsync, Memory<byte> asyncOutput)
    {
        Generation = Generation == uint.MaxValue ? 1 : Generation + 1; // 0 never: an all-zero id is always invalid
        IsAsync = isAsync;
        if (isAsync)
        {
            AsyncOutput = asyncOutput; // a reference store (GC write barrier) only where it is read; GetResult clears it
        }
        Result = 0;
        OutLength = 0;
        Holds = 2;
        ServerHoldKept = false;
        State = Pending;
        if (isAsync)
        {
            Core.Reset();
        }

        // Release: the fields above are set before any reader can take the server side.
        Volatile.Write(ref Ticket, ((long)Generation << 32) | 1);
        return RpcLayout.MakeId(Index, Generation);
    }

    internal void Register(CancellationToken token)
    {
        if (token.CanBeCanceled)
        {
            _registration = token.UnsafeRegister(s_onCancel, this);
        }
    }

    /// <inheritdoc />
    public RpcResult GetResult(short token)
    {
        try
        {
            RpcResult result = Core.GetResult(token);
            return Owner.CopyOutput(this, result, AsyncOutput.Span);
        }
        finally
        {
            _registration.Dispose();
            _registration = default;
            AsyncOutput = default;
            Owner.ReleaseCaller(this);
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => Core.OnCompleted(continuation, state, token, flags);
}
