namespace SharpTune.Text.Tokenization;

/// <summary>Turns the replacement (▁) back into spaces; in the first token it is dropped unless the prepend scheme is never.</summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme scheme) : IDecoder
{
    public string Describe() => $"Metaspace(replacement={Escape.Json(replacement.ToString())}, prepend_scheme={scheme.ToString().ToLowerInvariant()})";

    public List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var sb = new System.Text.StringBuilder(tokens[i].Length);
            foreach (var c in tokens[i])
            {
                if (c == replacement)
                {
                    if (i == 0 && scheme != PrependScheme.Never) continue;
                    sb.Append(' ');
                }
                else sb.Append(c);
            }
            result.Add(sb.ToString());
        }
        return result;
    }
}
