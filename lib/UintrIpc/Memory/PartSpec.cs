namespace UintrIpc.Memory;

/// <summary>
/// Describes one part of a region to create: its kind, a tag that tells parts of one kind
/// apart, its length, and an optional initializer that writes its initial contents.
/// </summary>
/// <remarks>
/// The initializer runs in the creating process on zero-filled memory, before the region
/// header is published, so it needs no ordering: plain stores are published by the
/// release store of the magic. Ring and wait-block types offer factory methods
/// (for example <c>SlotRing&lt;T&gt;.Part(capacity)</c>) that return a ready spec.
/// </remarks>
/// <param name="Kind">What the part holds.</param>
/// <param name="Tag">Application tag, e.g. 0 for requests and 1 for responses.</param>
/// <param name="Length">Bytes of the part (rounded up to the part alignment when laid out).</param>
/// <param name="Initialize">Writes the part's initial contents: (address of the part, length).</param>
internal readonly record struct PartSpec(PartKind Kind, uint Tag, long Length, Action<nint, long>? Initialize = null);
