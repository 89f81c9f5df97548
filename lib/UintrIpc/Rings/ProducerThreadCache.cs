using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

/// <summary>
/// Embedded in an MPSC ring object: the first thread that claims through it finds its intent
/// word and marker tag (uintripc.h 2f) in these fields; other threads look their registration
/// up in the <see cref="ProducerTable"/>. Only that thread ever finds its own id here, and it
/// wrote the other fields before it, so the fast path needs no fence.
/// </summary>
internal unsafe struct ProducerThreadCache
{
    private ulong* _intent;
    private int _thread;
    private uint _tag;

    /// <summary>The calling thread's intent word and marker tag, registering it on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong* Intent(ProducerTable table, out uint tag)
    {
        if (Environment.CurrentManagedThreadId == _thread)
        {
            tag = _tag;
            return _intent;
        }

        return Register(table, out tag);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong* Register(ProducerTable table, out uint tag)
    {
        ProducerSlot slot = table.ForCurrentThread();
        if (Interlocked.CompareExchange(ref _thread, -1, 0) == 0)
        {
            // This thread becomes the cached one: its fields first, then its id.
            _intent = slot.Intent;
            _tag = slot.Tag;
            Volatile.Write(ref _thread, Environment.CurrentManagedThreadId);
        }

        tag = slot.Tag;
        return slot.Intent;
    }
}
