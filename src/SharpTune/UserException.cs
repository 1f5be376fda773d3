namespace SharpTune;

/// <summary>
/// An error caused by the user's input (a bad file, flag or value) rather than by a bug in SharpTune.
/// The CLI prints its message as one line and exits with code 1; the message must name the file, line or
/// field at fault and say what was expected.
/// </summary>
public class UserException : Exception
{
    /// <summary>Creates an error with a message that names what is wrong and where.</summary>
    public UserException(string message) : base(message) { }

    /// <summary>Creates an error that wraps the low-level exception which revealed the problem.</summary>
    public UserException(string message, Exception inner) : base(message, inner) { }
}
