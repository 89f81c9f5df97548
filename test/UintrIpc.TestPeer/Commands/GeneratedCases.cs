using CsCheck;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Runs a property (in the tests and in this child program) over a fixed list of generated cases: case i comes from PCG stream i of
/// <c>seed</c>, so CI sees the same inputs every run and a failure names the case that repeats
/// it (CsCheck's Sample continues with fresh random seeds after the first, which CI must not).
/// </summary>
internal static class GeneratedCases
{
    /// <summary>
    /// UINTRIPC_GENERATED_SEED=n runs other cases: every seed given to <see cref="Check{T}"/> is
    /// XORed with n (a hunt for failures the pinned cases miss); unset, the pinned cases run.
    /// </summary>
    private static readonly ulong s_seedMix = Environment.GetEnvironmentVariable("UINTRIPC_GENERATED_SEED") is { Length: > 0 } n
        ? ulong.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>Case i of <paramref name="gen"/> under <paramref name="seed"/>.</summary>
    public static T Case<T>(Gen<T> gen, ulong seed, int index) => gen.Generate(new PCG((uint)index, seed), null, out _);

    /// <summary>
    /// Checks <paramref name="property"/> on <paramref name="count"/> cases; the first failure throws
    /// with its index and input. With <paramref name="progressEvery"/>, prints a line after every so
    /// many cases (a child's sign of progress to the test that waits for it).
    /// </summary>
    public static void Check<T>(Gen<T> gen, ulong seed, int count, Action<T> property, Func<T, string>? print = null, int progressEvery = 0)
        => Check(_ => gen, seed, count, property, print, progressEvery);

    /// <summary>
    /// As <see cref="Check{T}(Gen{T}, ulong, int, Action{T}, Func{T, string}?, int)"/>, case i drawn
    /// from <c>genAt(i)</c>: a property can fix a share of its cases to one kind (say every 16th
    /// an input the spec says succeeds), which no seed can then lose.
    /// </summary>
    public static void Check<T>(Func<int, Gen<T>> genAt, ulong seed, int count, Action<T> property, Func<T, string>? print = null, int progressEvery = 0)
    {
        ulong pinned = seed;
        seed ^= s_seedMix;
        string repeat = s_seedMix == 0 ? "pinned" : $"pinned {pinned} XOR UINTRIPC_GENERATED_SEED={s_seedMix}, which repeats it";
        for (int i = 0; i < count; i++)
        {
            T value = Case(genAt(i), seed, i);
            try
            {
                property(value);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"case {i} of seed {seed} ({repeat}) fails: {print?.Invoke(value) ?? value?.ToString()}\n{e}");
            }

            if (progressEvery > 0 && (i + 1) % progressEvery == 0)
            {
                Console.WriteLine($"progress: {i + 1} of {count} cases");
            }
        }
    }
}
