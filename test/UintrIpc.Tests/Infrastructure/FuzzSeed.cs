using System.Globalization;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// The 32-bit seed of a randomized test: UINTRIPC_FUZZ_SEED when set (any unsigned 64-bit
/// number: one above int.MaxValue is folded below it, and the folded value, which the failure
/// message names, repeats the run), otherwise <paramref name="fallback"/>.
/// </summary>
internal static class FuzzSeed
{
    public static int Int32(Func<int> fallback)
        => Environment.GetEnvironmentVariable("UINTRIPC_FUZZ_SEED") is { Length: > 0 } s
            ? (int)(ulong.Parse(s, CultureInfo.InvariantCulture) % int.MaxValue)
            : fallback();
}
