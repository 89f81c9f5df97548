namespace UintrIpc.Tests.Infrastructure;

/// <summary>What a call ended with, for handlers that must not throw into the loop that runs them.</summary>
internal static class Thrown
{
    /// <summary>The type of the exception <paramref name="action"/> threw, or <c>typeof(void)</c> when it returned.</summary>
    public static Type By(Action action)
    {
        try
        {
            action();
            return typeof(void);
        }
        catch (Exception e)
        {
            return e.GetType();
        }
    }
}
