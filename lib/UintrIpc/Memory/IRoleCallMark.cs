namespace UintrIpc.Memory;

/// <summary>
/// Where a role marks its quick calls outside its <see cref="MappingUse"/> record, in a word it
/// stores per call anyway: the SPSC slot producer's private tail carries an in-call bit, so that
/// entering and leaving a publish costs one store beside the tail's, not a depth pair (design-notes
/// "spsc2"). The caller stores the mark (plain) before its ring's disposed check and clears it with
/// a release store after its last access to the mapping, as <see cref="MappingUse.EnterRoleCall"/>
/// and <see cref="MappingUse.LeaveRoleCall"/> do with the depth.
/// </summary>
internal interface IRoleCallMark
{
    /// <summary>Whether the role is inside a marked call (acquire): read by <see cref="MappingUse.IsInUse"/> after the releaser's process-wide barrier.</summary>
    bool InCall { get; }
}
