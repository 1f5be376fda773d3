using SharpTune.Data.Sft;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Inference;

/// <summary>
/// A multi-turn chat with a model, as <c>llamafactory-cli chat</c>: each turn renders the whole conversation through
/// the one <see cref="PromptBuilder"/> (the run's template, system prompt and think-block placement), prefills it and
/// decodes with the KV cache, streaming the text as it is generated. Stops at the EOS ids, the template's end-of-turn
/// token and the stop strings.
/// </summary>
public sealed class ChatSession : IDisposable
{
    private readonly DecoderModel _model;
    private readonly PromptBuilder _builder;
    private readonly ITextTokenizer _tokenizer;
    private readonly GenerationOptions _options;
    private readonly KvCache _cache;
    private readonly float[] _logits;
    private readonly List<SftTurn> _turns = [];
    private int _turnCount;

    /// <summary>A session over <paramref name="model"/>; <paramref name="options"/>' EOS ids should include the end-of-turn id (see <see cref="BatchInference.StopIds"/>).</summary>
    public ChatSession(DecoderModel model, PromptBuilder builder, ITextTokenizer tokenizer, GenerationOptions options, int maxLength, string? system = null)
    {
        options.Validate();
        _model = model;
        _builder = builder;
        _tokenizer = tokenizer;
        _options = options;
        _cache = new KvCache(model.Config, model.Weights.Backend, 1, maxLength);
        _logits = new float[model.Config.VocabSize];
        System = system;
    }

    /// <summary>The system prompt of the conversation (null: the run's default_system, else the template's own).</summary>
    public string? System { get; set; }

    /// <summary>The turns so far (user, assistant, …).</summary>
    public IReadOnlyList<SftTurn> Turns => _turns;

    /// <summary>Forgets the conversation (the system prompt stays).</summary>
    public void Reset() => _turns.Clear();

    /// <summary>The prompt the next reply to <paramref name="user"/> would be generated from.</summary>
    public string PromptFor(string user) => _builder.InferencePrompt(Record(user));

    private SftRecord Record(string user) => new()
    {
        Source = "chat", Index = _turnCount, Kind = SftRecordKind.Conversation, System = System,
        Turns = [.. _turns, new SftTurn("user", user)],
    };

    /// <summary>Answers <paramref name="user"/>: the reply's text arrives piece by piece through <paramref name="onText"/>; returns the reply and why it ended.</summary>
    public (string Reply, FinishReason Finish) Send(string user, Action<string>? onText = null)
    {
        var ids = _tokenizer.Encode(PromptFor(user), addSpecialTokens: false);
        if (ids.Length + _options.MaxNewTokens > _cache.MaxLength)
            throw new UserException($"the conversation has {ids.Length} tokens; with max_new_tokens {_options.MaxNewTokens} it exceeds the context of {_cache.MaxLength} (use /reset)");
        var sampler = new TokenSampler(_options with { Seed = Generator.SequenceSeed(_options.Seed, _turnCount) });
        var eos = new HashSet<int>(_options.EosTokenIds);
        _cache.Reset();
        var seqs = new int[ids.Length];
        var pos = Enumerable.Range(0, ids.Length).ToArray();
        _model.Forward(_cache, ids, seqs, pos, [ids.Length - 1], _logits, lastLayerAtLogitTokensOnly: true);   // as Generator does
        var generated = new List<int>();
        string emitted = "";
        FinishReason finish;
        while (true)
        {
            int token = sampler.Next(_logits);
            generated.Add(token);
            if (eos.Contains(token)) { finish = FinishReason.Eos; generated.RemoveAt(generated.Count - 1); break; }
            var text = _tokenizer.Decode(generated.ToArray(), skipSpecialTokens: true);
            int stop = StopAt(text);
            if (stop >= 0) { Emit(text[..stop]); finish = FinishReason.Stop; break; }
            // Hold back a trailing replacement character: the next token may complete its UTF-8 sequence.
            Emit(text.EndsWith('\uFFFD') ? text.TrimEnd('\uFFFD') : text);
            if (generated.Count >= _options.MaxNewTokens) { finish = FinishReason.Length; break; }
            _model.Forward(_cache, [token], [0], [ids.Length + generated.Count - 1], [0], _logits, lastLayerAtLogitTokensOnly: true);
        }
        var reply = _tokenizer.Decode(generated.ToArray(), skipSpecialTokens: true);
        if (StopAt(reply) is var cut and >= 0) reply = reply[..cut];
        Emit(reply);
        _turns.Add(new SftTurn("user", user));
        _turns.Add(new SftTurn("assistant", reply));
        _turnCount++;
        return (reply, finish);

        void Emit(string text)
        {
            if (text.Length > emitted.Length && text.StartsWith(emitted, StringComparison.Ordinal))
            {
                onText?.Invoke(text[emitted.Length..]);
                emitted = text;
            }
        }
    }

    private int StopAt(string text)
    {
        int best = -1;
        foreach (var s in _options.StopStrings)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
