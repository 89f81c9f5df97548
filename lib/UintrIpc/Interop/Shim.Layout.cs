using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static partial class Shim
{
    /// <summary>What <see cref="LayoutValue"/> returns for an unknown id (UIPC_LAYOUT_UNKNOWN; -1 is a real value).</summary>
    internal const long LayoutUnknown = long.MinValue;

    /// <summary>Returns one layout constant of interop/include/uintripc.h by id (enum uipc_layout_id), or <see cref="LayoutUnknown"/>.</summary>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_LayoutValue")]
    [SuppressGCTransition]
    internal static partial long LayoutValue(int id);
}
