namespace SharpTune.Data.MovieLens;

/// <summary>How samples are divided into train, validation and test.</summary>
public enum SplitMode
{
    /// <summary>Whole users go to one split each (no user in two splits).</summary>
    User,

    /// <summary>Each user's last samples go to validation, then test, at the end of their timeline (no future in train).</summary>
    Temporal,
}
