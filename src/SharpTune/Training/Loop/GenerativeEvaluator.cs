using SharpTune.Data.Sft;
using SharpTune.Evaluation;
using SharpTune.Inference;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Training.Loop;

/// <summary>
/// The generative evaluation of <c>sharptune train</c> (<c>generative_eval</c>): the first <c>samples</c> evaluation
/// records are asked with <see cref="PromptBuilder.InferencePrompt"/> — the prompt inference builds — and answered by
/// greedy decoding on an inference model over the live parameters (<see cref="TrainableDecoder.CreateInferenceModel"/>,
/// no copy), stopping at EOS / end-of-turn or <c>max_new_tokens</c>; answers are parsed by <see cref="AnswerExtractor"/>
/// against the label set and scored by <see cref="ClassificationMetrics"/>. Metrics: <c>accuracy</c>, <c>f1</c> (macro),
/// <c>unparseable_rate</c> and <c>samples</c>, logged by the loop as <c>eval_gen_*</c>.
/// </summary>
public sealed class GenerativeEvaluator : IGenerativeEvaluator
{
    private readonly int[][] _prompts;
    private readonly int[] _references;
    private readonly AnswerExtractor _extractor;
    private readonly ITextTokenizer _tokenizer;
    private readonly GenerationOptions _options;
    private readonly int _maxLength;

    /// <summary>The label set answers are parsed against.</summary>
    public LabelSet Labels => _extractor.Labels;

    /// <summary>How many evaluation records are answered.</summary>
    public int Samples => _prompts.Length;

    /// <summary>
    /// Prepares the prompts (tokenized once) and the reference labels. A record whose reference answer is not one of
    /// <paramref name="labels"/> is a <see cref="UserException"/> naming it: accuracy against it would mean nothing.
    /// </summary>
    public GenerativeEvaluator(IReadOnlyList<SftRecord> records, int samples, int maxNewTokens, LabelSet labels, PromptBuilder prompts,
        ITextTokenizer tokenizer, IReadOnlyList<int> eosTokenIds)
    {
        if (samples <= 0) throw new UserException($"generative_eval.samples must be positive, got {samples}");
        if (maxNewTokens <= 0) throw new UserException($"generative_eval.max_new_tokens must be positive, got {maxNewTokens}");
        if (records.Count == 0) throw new UserException("generative_eval needs evaluation records (set eval_dataset or val_size)");
        _extractor = new AnswerExtractor(labels);
        _tokenizer = tokenizer;
        var chosen = records.Take(samples).ToArray();
        _prompts = new int[chosen.Length][];
        _references = new int[chosen.Length];
        for (int i = 0; i < chosen.Length; i++)
        {
            var r = chosen[i];
            var reference = ReferenceAnswer(r) ?? throw new UserException($"{r.Source}: generative_eval: the record has no final answer to compare with");
            int label = labels.IndexOf(reference.Trim());
            if (label < 0 && _extractor.Extract(reference).Answer is { } parsed) label = labels.IndexOf(parsed);
            if (label < 0) throw new UserException($"{r.Source}: generative_eval: the reference answer '{Clip(reference)}' is none of the labels {labels}");
            _references[i] = label;
            _prompts[i] = tokenizer.Encode(prompts.InferencePrompt(r), addSpecialTokens: r.Kind == SftRecordKind.Completion);
        }
        _options = new GenerationOptions { MaxNewTokens = maxNewTokens, EosTokenIds = eosTokenIds };
        _maxLength = _prompts.Max(p => p.Length) + maxNewTokens;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Evaluate(TrainableDecoder model, long step, CancellationToken cancellation)
    {
        using var inference = model.CreateInferenceModel(maxTokens: Math.Max(64, _prompts.Max(p => p.Length)));
        using var generator = new Generator(inference, maxBatch: Math.Min(8, _prompts.Length), _maxLength);
        var outputs = generator.Generate(_prompts, _options, _tokenizer);
        var predictions = new int[outputs.Count];
        var reasons = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < outputs.Count; i++)
        {
            var text = outputs[i].Text ?? _tokenizer.Decode(outputs[i].Ids.ToArray(), skipSpecialTokens: true);
            var e = _extractor.Extract(text);
            if (e.Answer is { } answer) predictions[i] = Labels.IndexOf(answer);
            else
            {
                predictions[i] = ClassificationMetrics.Unparseable;
                var key = AnswerExtraction.Key(e.Reason);
                reasons[key] = reasons.GetValueOrDefault(key) + 1;
            }
        }
        var result = ClassificationMetrics.Compute(Labels, _references, predictions, unparseableByReason: reasons.ToList());
        return new Dictionary<string, double>
        {
            [GenerativeMetrics.Accuracy] = result.Accuracy,
            ["f1"] = result.MacroF1,
            ["unparseable_rate"] = result.UnparseableRate,
            ["samples"] = _prompts.Length,
        };
    }

    /// <summary>The supervised final answer of a record: the last assistant turn, or a completion.</summary>
    public static string? ReferenceAnswer(SftRecord record) => record.Kind switch
    {
        SftRecordKind.Completion => record.Completion,
        SftRecordKind.Conversation => record.Turns.LastOrDefault(t => t.Role == "assistant")?.Content,
        _ => null,
    };

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
