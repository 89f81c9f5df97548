using UintrIpc.Memory;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>Copies drained elements into a span: batch <c>TryRead</c> is <c>Drain</c> with this handler.</summary>
internal ref struct SpanFillHandler<T> : ISlotHandler<T> where T : unmanaged
{
    private readonly Span<T> _destination;
    private int _count;

    internal SpanFillHandler(Span<T> destination) => _destination = destination;

    public void Handle(in T item) => ElementCopy.CopyOut(ref _destination[_count++], in item);
}
