namespace UintrIpc.Rings;

/// <summary>
/// The two racy points of an MPSC record claim (uintripc.h 2e, 2f), where tests put another
/// process's step or a kill: after the intent store and before the claim CAS, and after a
/// successful CAS and before the claimed header. A struct type argument: the claim every caller
/// uses passes <see cref="NoClaimProbe"/>, whose empty methods the JIT removes, so production
/// code carries nothing of it.
/// </summary>
internal interface IClaimProbe
{
    /// <summary>The intent for the CAS from <paramref name="tail"/> is stored; the CAS comes next.</summary>
    static abstract void BeforeCas(long tail);

    /// <summary>The CAS claimed the record at <paramref name="position"/>; its claimed header comes next.</summary>
    static abstract void AfterCas(long position);
}

/// <summary>No probe: the claim as every caller runs it.</summary>
internal struct NoClaimProbe : IClaimProbe
{
    public static void BeforeCas(long tail)
    {
    }

    public static void AfterCas(long position)
    {
    }
}
