using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SharpTune.Evaluation.Sanity;

/// <summary>
/// Reads a sanity rules file (YAML). Layout:
/// <code>
/// phrases:                       # optional named phrase lists
///   compliment: ["Your question shows sharp thinking.", ...]
/// system: "..."                  # optional default system message
/// groups:
///   - name: everyday
///     weight: 1                  # optional, default 1, &gt; 0
///     system: "..."              # optional, overrides the default for the group
///     prompts:
///       - "What is the capital of France?"
///       - { prompt: "...", system: "..." }
///     checks:
///       - starts_with_any: compliment        # a phrase list by name
///       - not_contains_any: ["I can't"]      # or an inline list
///       - regex: "(?i)paris"
///       - not_regex: "\\?$"
///       - max_words: 80
/// </code>
/// Every error is a <see cref="UserException"/> naming the file and line.
/// </summary>
public static class SanityRulesLoader
{
    /// <summary>Loads and validates <paramref name="path"/>.</summary>
    public static SanityRules Load(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: rules file not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses rules text; <paramref name="source"/> names it in errors.</summary>
    public static SanityRules Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e) { throw new UserException($"{source}:{e.Start.Line}: invalid YAML: {FirstLine(e.Message)}"); }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new UserException($"{source}:1: expected a mapping with 'groups' (and optionally 'phrases', 'system')");
        var ctx = new Context(source);

        var phrases = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        string? defaultSystem = null;
        YamlSequenceNode? groupsNode = null;
        foreach (var (keyNode, value) in root.Children)
        {
            var key = ctx.Scalar(keyNode, "a key");
            switch (key)
            {
                case "phrases":
                    if (value is not YamlMappingNode lists) throw ctx.Error(value, "'phrases' must map names to lists of phrases");
                    foreach (var (nameNode, listNode) in lists.Children)
                    {
                        var name = ctx.Scalar(nameNode, "a phrase list name");
                        if (phrases.ContainsKey(name)) throw ctx.Error(nameNode, $"phrase list '{name}' is defined twice");
                        phrases[name] = ctx.StringList(listNode, $"phrase list '{name}'");
                    }
                    break;
                case "system":
                    defaultSystem = ctx.Scalar(value, "'system' (a string)");
                    break;
                case "groups":
                    groupsNode = value as YamlSequenceNode ?? throw ctx.Error(value, "'groups' must be a list of groups");
                    break;
                default:
                    throw ctx.Error(keyNode, $"unknown key '{key}' (expected groups, phrases, system)");
            }
        }
        if (groupsNode is null || groupsNode.Children.Count == 0) throw ctx.Error(root, "no groups: 'groups' must list at least one prompt group");

        var groups = new List<SanityGroup>();
        foreach (var node in groupsNode.Children)
        {
            var group = ParseGroup(ctx, node, phrases, defaultSystem);
            if (groups.Any(g => g.Name == group.Name)) throw ctx.Error(node, $"group '{group.Name}' is defined twice");
            groups.Add(group);
        }
        return new SanityRules { Source = source, Phrases = phrases, Groups = groups };
    }

    private static SanityGroup ParseGroup(Context ctx, YamlNode node, Dictionary<string, IReadOnlyList<string>> phrases, string? defaultSystem)
    {
        if (node is not YamlMappingNode map) throw ctx.Error(node, "a group must be a mapping with name, prompts and checks");
        string? name = null, system = defaultSystem;
        double weight = 1;
        YamlNode? promptsNode = null, checksNode = null;
        foreach (var (keyNode, value) in map.Children)
        {
            var key = ctx.Scalar(keyNode, "a key");
            switch (key)
            {
                case "name": name = ctx.Scalar(value, "'name' (a string)"); break;
                case "system": system = ctx.Scalar(value, "'system' (a string)"); break;
                case "weight":
                    var w = ctx.Scalar(value, "'weight' (a number)");
                    if (!double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !(weight > 0) || double.IsInfinity(weight))
                        throw ctx.Error(value, $"'weight' must be a positive number, got '{w}'");
                    break;
                case "prompts": promptsNode = value; break;
                case "checks": checksNode = value; break;
                default: throw ctx.Error(keyNode, $"unknown group key '{key}' (expected name, weight, system, prompts, checks)");
            }
        }
        if (string.IsNullOrWhiteSpace(name)) throw ctx.Error(node, "a group needs a 'name'");
        if (promptsNode is not YamlSequenceNode promptList || promptList.Children.Count == 0)
            throw ctx.Error(promptsNode ?? node, $"group '{name}' has no prompts ('prompts' must be a non-empty list)");
        if (checksNode is not YamlSequenceNode checkList || checkList.Children.Count == 0)
            throw ctx.Error(checksNode ?? node, $"group '{name}' has no checks ('checks' must be a non-empty list)");

        var prompts = new List<SanityPrompt>();
        foreach (var p in promptList.Children)
        {
            string text;
            string? promptSystem = system;
            if (p is YamlScalarNode) text = ctx.Scalar(p, "a prompt");
            else if (p is YamlMappingNode pm)
            {
                string? t = null;
                foreach (var (k, v) in pm.Children)
                {
                    var pk = ctx.Scalar(k, "a key");
                    if (pk == "prompt") t = ctx.Scalar(v, "'prompt' (a string)");
                    else if (pk == "system") promptSystem = ctx.Scalar(v, "'system' (a string)");
                    else throw ctx.Error(k, $"unknown prompt key '{pk}' (expected prompt, system)");
                }
                text = t ?? throw ctx.Error(p, "a prompt mapping needs 'prompt'");
            }
            else throw ctx.Error(p, "a prompt must be a string or a mapping with 'prompt' and optional 'system'");
            if (string.IsNullOrWhiteSpace(text)) throw ctx.Error(p, $"group '{name}': empty prompt");
            prompts.Add(new SanityPrompt(name, prompts.Count, text, string.IsNullOrEmpty(promptSystem) ? null : promptSystem));
        }

        var checks = checkList.Children.Select(c => ParseCheck(ctx, c, phrases)).ToArray();
        return new SanityGroup { Name = name, Weight = weight, Prompts = prompts, Checks = checks };
    }

    private static SanityCheck ParseCheck(Context ctx, YamlNode node, Dictionary<string, IReadOnlyList<string>> phrases)
    {
        if (node is not YamlMappingNode map || map.Children.Count != 1)
            throw ctx.Error(node, "a check must be a mapping with one key, e.g. 'starts_with_any: compliment' or 'max_words: 60'");
        var (keyNode, value) = map.Children.First();
        var key = ctx.Scalar(keyNode, "a check name");
        int line = Line(keyNode);
        var kind = SanityCheck.Parse(key)
            ?? throw ctx.Error(keyNode, $"unknown check '{key}' (expected starts_with_any, contains_any, not_contains_any, regex, not_regex, max_words)");
        switch (kind)
        {
            case SanityCheckKind.Regex or SanityCheckKind.NotRegex:
                var pattern = ctx.Scalar(value, $"'{key}' (a regular expression)");
                try { return SanityCheck.ForRegex(kind, pattern, line); }
                catch (ArgumentException e) { throw ctx.Error(value, $"invalid regex '{pattern}' in '{key}': {e.Message}"); }
            case SanityCheckKind.MaxWords:
                var n = ctx.Scalar(value, "'max_words' (a whole number)");
                if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var max))
                    throw ctx.Error(value, $"'max_words' must be a non-negative whole number, got '{n}'");
                return SanityCheck.ForMaxWords(max, line);
            default:
                if (value is YamlScalarNode)
                {
                    var listName = ctx.Scalar(value, "a phrase list name");
                    if (!phrases.TryGetValue(listName, out var list))
                        throw ctx.Error(value, $"'{key}' names phrase list '{listName}', which 'phrases' does not define (defined: {(phrases.Count == 0 ? "none" : string.Join(", ", phrases.Keys))})");
                    return SanityCheck.ForPhrases(kind, listName, list, line);
                }
                var inline = ctx.StringList(value, $"'{key}'");
                return SanityCheck.ForPhrases(kind, "[" + string.Join(", ", inline.Select(p => "\"" + p + "\"")) + "]", inline, line);
        }
    }

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private static string FirstLine(string s)
    {
        int i = s.IndexOf('\n');
        return i < 0 ? s : s[..i];
    }

    private sealed class Context(string source)
    {
        public UserException Error(YamlNode node, string message) => new($"{source}:{Line(node)}: {message}");

        public string Scalar(YamlNode node, string what) =>
            node is YamlScalarNode { Value: { } v } ? v : throw Error(node, $"expected {what}");

        public IReadOnlyList<string> StringList(YamlNode node, string what)
        {
            if (node is not YamlSequenceNode seq || seq.Children.Count == 0) throw Error(node, $"{what} must be a non-empty list of phrases");
            var items = new List<string>();
            foreach (var item in seq.Children)
            {
                var s = Scalar(item, $"a phrase (string) in {what}");
                if (s.Length == 0) throw Error(item, $"empty phrase in {what}");
                items.Add(s);
            }
            return items;
        }
    }
}
