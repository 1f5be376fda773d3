using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SharpTune.Training.Configuration;

/// <summary>
/// Reads a YAML configuration and <c>key=value</c> overrides into typed entries with provenance: unknown keys are
/// errors with the closest valid name, infrastructure keys are collected as ignored, result-changing unsupported
/// keys are errors, and every value is converted and range-checked with its <c>file:line</c> in the message.
/// </summary>
internal sealed class TrainConfigReader
{
    private readonly Dictionary<string, ConfigEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<IgnoredKey> _ignored = [];

    public IReadOnlyDictionary<string, ConfigEntry> Entries => _entries;

    public IReadOnlyList<IgnoredKey> Ignored => _ignored;

    /// <summary>Reads the YAML text of <paramref name="path"/>.</summary>
    public void ReadYaml(string text, string path)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e) { throw new UserException($"{path}:{e.Start.Line}: not valid YAML: {Inner(e).Message}"); }
        if (stream.Documents.Count == 0) throw new UserException($"{path}: the configuration is empty (expected a YAML mapping of keys such as model_name_or_path, dataset, output_dir)");
        if (stream.Documents.Count > 1) throw new UserException($"{path}:{stream.Documents[1].RootNode.Start.Line}: more than one YAML document; expected one mapping");
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new UserException($"{path}:{stream.Documents[0].RootNode.Start.Line}: expected a YAML mapping of keys (key: value)");
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (k, v) in root.Children)
        {
            string where = $"{path}:{k.Start.Line}";
            if (k is not YamlScalarNode { Value: { } name }) throw new UserException($"{where}: a key must be a plain word");
            if (seen.TryGetValue(name, out var first)) throw new UserException($"{where}: key '{name}' is given twice (first at line {first})");
            seen[name] = k.Start.Line;
            if (name == "generative_eval" && v is YamlMappingNode nested)
            {
                foreach (var (nk, nv) in nested.Children)
                {
                    var sub = (nk as YamlScalarNode)?.Value ?? throw new UserException($"{path}:{nk.Start.Line}: a key must be a plain word");
                    Set("generative_eval." + sub, Raw.From(nv), ConfigSource.File, $"{path}:{nk.Start.Line}");
                }
                continue;
            }
            Set(name, Raw.From(v), ConfigSource.File, where);
        }
    }

    /// <summary>Applies one <c>key=value</c> argument; the value is read as the file's would be.</summary>
    public void ReadOverride(string argument)
    {
        int eq = argument.IndexOf('=');
        string where = $"override '{argument}'";
        if (eq <= 0) throw new UserException($"{where}: expected key=value (e.g. learning_rate=5e-5)");
        var name = argument[..eq].Trim();
        var text = argument[(eq + 1)..].Trim();
        Raw raw;
        if (text.StartsWith('[') && text.EndsWith(']'))
            raw = new Raw(null, true, [.. text[1..^1].Split(',').Select(x => x.Trim()).Where(x => x.Length > 0).Select(x => new Raw(Unquote(x), true, null))]);
        else
            raw = new Raw(Unquote(text), !(text.Length >= 2 && (text[0] == '"' || text[0] == '\'') && text[^1] == text[0]), null);
        Set(name, raw, ConfigSource.Override, where);
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && (s[0] == '"' || s[0] == '\'') && s[^1] == s[0] ? s[1..^1] : s;

    private void Set(string name, Raw raw, ConfigSource source, string where)
    {
        var key = ConfigKeys.Find(name);
        if (key is null)
        {
            if (ConfigKeys.Ignored.TryGetValue(name, out var why))
            {
                _ignored.RemoveAll(i => i.Name == name);
                _ignored.Add(new IgnoredKey(name, raw.Display, where, why));
                return;
            }
            if (ConfigKeys.Unsupported.TryGetValue(name, out var u))
            {
                if (raw.IsNeutral(u.Neutral))
                {
                    _ignored.RemoveAll(i => i.Name == name);
                    _ignored.Add(new IgnoredKey(name, raw.Display, where, "the default value; changes nothing"));
                    return;
                }
                throw new UserException($"{where}: {name}: {u.What} is not supported by SharpTune (it would change the result); remove the key");
            }
            var candidates = name.StartsWith("generative_eval.", StringComparison.Ordinal)
                ? ConfigKeys.All.Where(k => k.Name.StartsWith("generative_eval.", StringComparison.Ordinal)).Select(k => k.Name)
                : ConfigKeys.All.Select(k => k.Name).Concat(ConfigKeys.Ignored.Keys);
            throw new UserException($"{where}: unknown key '{name}'; did you mean '{KeySuggester.Closest(name, candidates)}'?");
        }
        var value = Convert(key, raw, where);
        _entries[name] = new ConfigEntry(key, value, source, where);
    }

    internal static object? Convert(ConfigKey key, Raw raw, string where)
    {
        string Fail(string expected) => throw new UserException($"{where}: {key.Name}: expected {expected}, got {raw.Display}");
        if (raw.IsNull)
        {
            if (key.Nullable || key.Kind == ConfigValueKind.PathOrBool) return null;
            throw new UserException($"{where}: {key.Name}: must not be null (default {key.DefaultText})");
        }
        if (key.Kind == ConfigValueKind.StringList)
        {
            var items = raw.Items is not null
                ? raw.Items.Select(i => i.Text ?? Fail("a list of words")).ToList()
                : raw.Text!.Split(',').Select(x => x.Trim()).Where(x => x.Length > 0).ToList();
            if (items.Count == 0) Fail("a non-empty list");
            return items;
        }
        if (raw.Text is not { } text) return Fail(Expected(key));
        object value;
        switch (key.Kind)
        {
            case ConfigValueKind.Bool:
                value = ParseBool(text) is bool pb ? pb : Fail("true or false");
                break;
            case ConfigValueKind.Int:
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    // HfArgumentParser accepts 3.0 for an int field only when it is whole.
                    if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var whole) && whole == Math.Floor(whole) && Math.Abs(whole) < 1e15) l = (long)whole;
                    else return Fail("a whole number");
                }
                value = l;
                break;
            case ConfigValueKind.Double:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d)) return Fail("a number");
                value = d;
                break;
            case ConfigValueKind.Choice:
                var choice = key.Choices.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase));
                value = choice ?? throw new UserException($"{where}: {key.Name}: '{text}' is not supported; expected one of: {string.Join(", ", key.Choices)}");
                break;
            case ConfigValueKind.Duration:
                value = DurationParser.TryParseSeconds(text) is double secs ? secs : Fail("a duration such as 90m, 1.5h, 45s or a number of seconds");
                break;
            case ConfigValueKind.CountOrFraction:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v)) return Fail("a count or a fraction in (0, 1)");
                if (v < 0) throw new UserException($"{where}: {key.Name}: must not be negative, got {text}");
                if (v >= 1 && v != Math.Floor(v)) throw new UserException($"{where}: {key.Name}: {text} is neither a whole count nor a fraction in (0, 1)");
                value = v;
                break;
            case ConfigValueKind.PathOrBool:
                if (ParseBool(text) is bool b) return b ? true : null;
                value = text;
                break;
            default:
                value = text;
                break;
        }
        CheckRange(key, value, where, text);
        return value;
    }

    private static string Expected(ConfigKey key) => key.Kind switch
    {
        ConfigValueKind.Bool => "true or false",
        ConfigValueKind.Int => "a whole number",
        ConfigValueKind.Double => "a number",
        ConfigValueKind.Choice => "one of " + string.Join(", ", key.Choices),
        _ => "a single value",
    };

    private static void CheckRange(ConfigKey key, object value, string where, string text)
    {
        double? n = value switch { long l => l, double d => d, _ => null };
        if (n is not { } x) return;
        if (key.Min is { } min && (x < min || (key.MinExclusive && x == min)))
            throw new UserException($"{where}: {key.Name}: must be {(key.MinExclusive ? ">" : ">=")} {min.ToString(CultureInfo.InvariantCulture)}, got {text}");
        if (key.Max is { } max && x > max)
            throw new UserException($"{where}: {key.Name}: must be <= {max.ToString(CultureInfo.InvariantCulture)}, got {text}");
    }

    internal static bool? ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => null,
    };

    private static Exception Inner(Exception e) => e.InnerException ?? e;
}

/// <summary>A key that was accepted and ignored.</summary>
/// <param name="Name">The key.</param>
/// <param name="Value">Its value as written.</param>
/// <param name="Location">Where it was given.</param>
/// <param name="Reason">Why it makes no difference.</param>
public sealed record IgnoredKey(string Name, string Value, string Location, string Reason);

/// <summary>A YAML value before typing: a scalar (text, whether plain) or a sequence of scalars.</summary>
internal sealed record Raw(string? Text, bool Plain, IReadOnlyList<Raw>? Items)
{
    public static Raw From(YamlNode node) => node switch
    {
        YamlScalarNode s => new Raw(s.Value ?? "", s.Style is ScalarStyle.Plain or ScalarStyle.Any, null),
        YamlSequenceNode q => new Raw(null, true, q.Children.Select(From).ToList()),
        _ => new Raw(null, true, null),
    };

    /// <summary>YAML null: a plain <c>null</c>, <c>~</c> or nothing.</summary>
    public bool IsNull => Items is null && Text is not null && Plain && Text is "" or "~" or "null" or "Null" or "NULL";

    public string Display => Items is not null ? "[" + string.Join(", ", Items.Select(i => i.Display)) + "]" : Text is null ? "a mapping" : Text.Length == 0 ? "null" : Text;

    public bool IsNeutral(string? neutral)
    {
        if (IsNull) return true;
        if (Text is null) return false;
        if (neutral is null) return false;
        if (neutral == "false") return TrainConfigReader.ParseBool(Text) == false;
        if (neutral == "0") return double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == 0;
        return string.Equals(Text, neutral, StringComparison.OrdinalIgnoreCase);
    }
}
