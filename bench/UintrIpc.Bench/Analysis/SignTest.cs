namespace UintrIpc.Bench.Analysis;

/// <summary>
/// The sign test over a row's pair ratios. If neither side were faster, each adjacent pair would be
/// above 1 with probability one half, so k of n pairs above 1 has the binomial tails P(X &lt;= k)
/// (.NET behind) and P(X &gt;= k) (.NET ahead). A median below 1 from a few pairs on a host whose
/// speed swings 2-3x between runs is not yet a shortfall, nor one above 1 a lead: this says which
/// of them the pairs show, at the one-sided level <see cref="Level"/>.
/// </summary>
internal static class SignTest
{
    public const double Level = 0.05;

    /// <summary>P(X &lt;= above) for X ~ Binomial(pairs, 1/2).</summary>
    public static double AtMost(int above, int pairs)
    {
        double p = 0, term = Math.Pow(0.5, pairs); // C(n, 0) / 2^n
        for (int i = 0; i <= above; i++)
        {
            p += term;
            term = term * (pairs - i) / (i + 1);
        }

        return Math.Min(1, p);
    }

    /// <summary>"ahead", "behind" or "neither shown", with the tail's probability; empty without pairs.</summary>
    public static string Verdict(int above, int pairs)
    {
        if (pairs == 0)
        {
            return "";
        }

        double behind = AtMost(above, pairs), ahead = AtMost(pairs - above, pairs);
        return behind < Level ? $"behind by the sign test, p = {behind:0.###}"
            : ahead < Level ? $"ahead by the sign test, p = {ahead:0.###}"
            : $"neither side shown faster by the sign test, p = {Math.Min(behind, ahead):0.##}";
    }
}
