namespace HoodyCurl.TestUpstream;

/// <summary>How <see cref="FlakyServer"/> kills the connections it drops.</summary>
public enum FlakyDrop
{
    /// <summary>Abortive close: the client sees ECONNRESET.</summary>
    Reset,

    /// <summary>Orderly close before any byte: the client sees an empty reply.</summary>
    Fin,
}
