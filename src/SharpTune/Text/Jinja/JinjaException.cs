namespace SharpTune.Text.Jinja;

/// <summary>
/// An error in a chat template or in what it was rendered with. Templates come from downloaded model repositories,
/// so every failure is a user error: the message names the template, line and column.
/// </summary>
public class JinjaException : UserException
{
    /// <summary>Creates an error at a template position (line and column are 1-based; 0 when unknown).</summary>
    public JinjaException(string message, string templateName, int line, int column)
        : base(Format(message, templateName, line, column))
    {
        Detail = message;
        TemplateName = templateName;
        Line = line;
        Column = column;
    }

    /// <summary>The message without the position prefix.</summary>
    public string Detail { get; }

    /// <summary>The name of the template (a file path, a built-in name or "template").</summary>
    public string TemplateName { get; }

    /// <summary>1-based line of the construct at fault, or 0.</summary>
    public int Line { get; }

    /// <summary>1-based column of the construct at fault, or 0.</summary>
    public int Column { get; }

    private static string Format(string message, string name, int line, int column) =>
        line > 0 ? $"{name}:{line}:{column}: {message}" : $"{name}: {message}";
}

/// <summary>The template text is not valid Jinja (raised while compiling).</summary>
public sealed class JinjaSyntaxException : JinjaException
{
    /// <summary>Creates a syntax error.</summary>
    public JinjaSyntaxException(string message, string templateName, int line, int column) : base("syntax error: " + message, templateName, line, column) { }
}

/// <summary>The template failed while rendering (a type error, an undefined value used, a forbidden call).</summary>
public class JinjaRuntimeException : JinjaException
{
    /// <summary>Creates a runtime error.</summary>
    public JinjaRuntimeException(string message, string templateName, int line, int column) : base(message, templateName, line, column) { }
}

/// <summary>The template called <c>raise_exception(message)</c>; <see cref="JinjaException.Detail"/> is that message.</summary>
public sealed class JinjaRaisedException : JinjaRuntimeException
{
    /// <summary>Creates the error raised by the template.</summary>
    public JinjaRaisedException(string message, string templateName, int line, int column) : base(message, templateName, line, column) { }
}

/// <summary>A sandbox limit (loop iterations, recursion depth, output size, time) was exceeded.</summary>
public sealed class JinjaLimitException : JinjaRuntimeException
{
    /// <summary>Creates a limit error.</summary>
    public JinjaLimitException(string message, string templateName, int line, int column) : base("sandbox limit: " + message, templateName, line, column) { }
}

/// <summary>An error raised below the evaluator, before the template position is known; the evaluator adds it.</summary>
internal class PyError : Exception
{
    public PyError(string message) : base(message) { }
}

/// <summary>raise_exception(...) before the position is attached.</summary>
internal sealed class PyRaised : PyError
{
    public PyRaised(string message) : base(message) { }
}

/// <summary>A sandbox limit before the position is attached.</summary>
internal sealed class PyLimit : PyError
{
    public PyLimit(string message) : base(message) { }
}
