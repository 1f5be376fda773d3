namespace SharpTune.Text.Jinja;

/// <summary>Reads Python-style positional-or-keyword arguments of built-in filters, tests, methods and globals.</summary>
internal static class Args
{
    public static object? Get(List<object?> args, List<KeyValuePair<string, object?>>? kwargs, int index, string name, object? fallback)
    {
        if (index < args.Count) return args[index];
        if (kwargs is not null)
            foreach (var (k, v) in kwargs)
                if (k == name) return v;
        return fallback;
    }

    public static bool Has(List<object?> args, List<KeyValuePair<string, object?>>? kwargs, int index, string name) =>
        index < args.Count || (kwargs is not null && kwargs.Exists(kv => kv.Key == name));

    public static string Str(object? v, string what) => v switch
    {
        string s => s,
        Undefined u => throw u.Error(),
        _ => throw new PyError($"TypeError: {what} must be str, not {PyOps.TypeName(v)}"),
    };

    public static long Int(object? v, string what) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        Undefined u => throw u.Error(),
        _ => throw new PyError($"TypeError: {what} must be an integer, not {PyOps.TypeName(v)}"),
    };
}
