namespace SharpTune.Text.Tokenization;

/// <summary>
/// transformers' <c>LlamaTokenizerFast</c>, <c>CodeLlamaTokenizerFast</c> and <c>GemmaTokenizerFast</c> do not keep
/// tokenizer.json's post-processor: on load they call <c>update_post_processor()</c>, which builds a
/// <c>TemplateProcessing</c> from tokenizer_config.json's <c>add_bos_token</c> (default true) and
/// <c>add_eos_token</c> (default false): single <c>[bos:0] $A:0 [eos:0]</c>, pair
/// <c>[bos:0] $A:0 [eos:0] [bos:1] $B:1 [eos:1]</c>. Every other class keeps tokenizer.json's post-processor.
/// Without this, a Llama folder saying <c>add_bos_token: false</c> would still get a BOS here and not in Python.
/// </summary>
internal static class TransformersPostProcessor
{
    // The slow names load as their fast classes through AutoTokenizer (use_fast=True).
    private static readonly HashSet<string> RebuildingClasses = new(StringComparer.Ordinal)
    {
        "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast",
    };

    /// <summary>The post-processor transformers would use for this config, or null when it keeps tokenizer.json's.</summary>
    public static IPostProcessor? For(TokenizerConfig config, Func<string, int?> tokenToId, string source)
    {
        if (config.TokenizerClass is not { } cls || !RebuildingClasses.Contains(cls)) return null;
        bool addBos = config.AddBosToken ?? true, addEos = config.AddEosToken ?? false;
        int[] bos = addBos ? [Id(config.BosToken, "bos_token", "add_bos_token")] : [];
        int[] eos = addEos ? [Id(config.EosToken, "eos_token", "add_eos_token")] : [];
        var single = new List<TemplatePiece>();
        var pair = new List<TemplatePiece>();
        Add(single, 'A', 0);
        Add(pair, 'A', 0);
        Add(pair, 'B', 1);
        string text(string seq, int type) => $"{(addBos ? $"{config.BosToken}:{type} " : "")}${seq}:{type}{(addEos ? $" {config.EosToken}:{type}" : "")}";
        return new TemplatePostProcessor(single, pair,
            $"TemplateProcessing(single: {text("A", 0)}; pair: {text("A", 0)} {text("B", 1)}) from tokenizer_config.json ({cls}: add_bos_token {addBos}, add_eos_token {addEos})");

        void Add(List<TemplatePiece> pieces, char sequence, int typeId)
        {
            if (bos.Length > 0) pieces.Add(new TemplatePiece('\0', bos, typeId));
            pieces.Add(new TemplatePiece(sequence, [], typeId));
            if (eos.Length > 0) pieces.Add(new TemplatePiece('\0', eos, typeId));
        }

        int Id(string? token, string field, string flag) =>
            token is null ? throw new UserException($"{source}: {flag} is true but {field} is not set")
            : tokenToId(token) ?? throw new UserException($"{source}: {field} '{token}' is not in the vocabulary");
    }
}
