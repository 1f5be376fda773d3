using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Cli.CommandLine;
using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Cli.Commands;

/// <summary>
/// <c>sharptune preprocess</c>, <c>stats</c> and <c>inspect-masking</c>: tokenize and mask SFT data exactly as
/// training will see it, through the cache, and look at the result.
/// </summary>
internal static class PreprocessCommands
{
    public static IEnumerable<CliCommand> Create() => [Preprocess(), Stats(), InspectMasking()];

    // The library's defaults, shown in --help: the binder applies the same ones when a flag is absent.
    private static readonly PreprocessOptions Defaults = new();

    private static string Word(bool b) => b ? "true" : "false";

    private static CliCommand WithCommonOptions(this CliCommand c) => c
        .Option("data", "Dataset: JSON array or JSONL of Alpaca, messages, ShareGPT, prompt/completion, input_text/full_text or text records (format detected from the keys).", "FILE")
        .Option("dataset-info", "A dataset description file (LLaMA-Factory dataset_info.json style) instead of --data.", "FILE")
        .Option("dataset", "The entry of --dataset-info to use.", "NAME")
        .Option("tokenizer", "Tokenizer or model folder (tokenizer.json, tokenizer_config.json).", "DIR", required: true)
        .Option("template", "Chat template: built-in name (chatml, qwen3, llama3, llama2, mistral, completion) or .jinja file; default: the folder's chat_template.", "NAME|PATH")
        .Option("cutoff-len", "Maximum tokens per sample.", "N", Defaults.CutoffLen.ToString(CultureInfo.InvariantCulture))
        .Option("truncation", "Over-length samples: left (drop from the start), history (drop oldest history items, then left), drop, error.", "MODE", Defaults.Truncation.ToString().ToLowerInvariant())
        .Flag("train-on-prompt", "Supervise every token, the prompt included.")
        .Flag("mask-history", "Supervise only the last assistant turn.")
        .Option("train-on-eot", "Supervise the end-of-turn token after each answer.", "true|false", Word(Defaults.Prompt.TrainOnEot))
        .Option("think-block", "Qwen3's empty think block belongs to the prompt or the answer.", "prompt|answer", Defaults.Prompt.ThinkBlock.ToString().ToLowerInvariant())
        .Option("enable-thinking", "LLaMA-Factory's name for the think-block placement: false = --think-block prompt, true = answer.", "true|false")
        .Flag("allow-render-mismatch", "Count and report render-parity mismatches instead of failing.")
        .Option("default-system", "System prompt for records without one (identical in training and inference).", "TEXT")
        .Option("completion-eos", "Append a supervised EOS to completion and text records.", "true|false", Word(Defaults.Prompt.CompletionEos))
        .Option("template-kwarg", "Extra template variable KEY=JSON (repeatable), e.g. enable_thinking=false.", "KEY=VALUE", repeatable: true);

    private static CliCommand Preprocess() =>
        new CliCommand("preprocess", "Render, tokenize, mask and truncate a dataset into the preprocessing cache.")
        {
            Description = """
                Renders every record through the chat template once, tokenizes it once (no added special tokens), supervises
                only the answers (+ end-of-turn token), checks that the inference prompt tokenizes to the training prefix, and
                applies cutoff_len without ever cutting the answer. The result is stored under the cache folder keyed by the
                data, tokenizer files, template, options and pipeline version; a valid entry is reused.
                Every truncated, dropped or mismatched sample is listed in report.jsonl in the entry.
                """,
        }
            .WithCommonOptions()
            .Option("cache-dir", "Cache folder.", "DIR", ".cache/preprocessed")
            .Flag("rebuild-cache", "Rebuild the entry even when a valid one exists.")
            .Flag("json", "Print one JSON object instead of text.")
            .Handle(a =>
            {
                var (inputs, _) = Inputs(a);
                var result = PreprocessPipeline.Run(inputs, new PreprocessCache(a.RequiredString("cache-dir")), a.Bool("rebuild-cache"), m => a.Error.WriteLine(m));
                var r = result.Report;
                if (a.Bool("json"))
                {
                    a.Out.WriteLine(new JsonObject
                    {
                        ["key"] = result.Key, ["from_cache"] = result.FromCache, ["entry"] = result.EntryPath, ["seconds"] = Math.Round(result.Seconds, 3),
                        ["records"] = r.Records, ["kept"] = r.Kept, ["truncated"] = r.Truncated, ["dropped"] = r.Dropped,
                        ["render_mismatches"] = r.RenderMismatches, ["supervised_tokens"] = r.SupervisedTokens, ["masked_tokens"] = r.MaskedTokens,
                    }.ToJsonString());
                    return CliApp.Success;
                }
                a.Out.WriteLine($"{(result.FromCache ? "loaded from cache" : "preprocessed")} in {result.Seconds:F2} s: {result.EntryPath}");
                a.Out.WriteLine($"records {r.Records:N0}: kept {r.Kept:N0}, truncated {r.Truncated:N0}, dropped {r.Dropped:N0}, render mismatches {r.RenderMismatches:N0}");
                a.Out.WriteLine($"tokens: {r.SupervisedTokens:N0} supervised, {r.MaskedTokens:N0} masked");
                if (r.Truncated + r.Dropped + r.RenderMismatches > 0)
                    a.Out.WriteLine($"every truncated/dropped/mismatched sample: {Path.Combine(result.EntryPath, "report.jsonl")}");
                return CliApp.Success;
            });

    private static CliCommand Stats() =>
        new CliCommand("stats", "Token length statistics of exactly the rendered training samples.")
        {
            Description = "Lengths are measured on the full training render before truncation; over_cutoff counts samples longer than --cutoff-len (its default when not given, as in preprocess).",
        }
            .WithCommonOptions()
            .Option("show-examples", "Print N samples with supervised tokens highlighted.", "N", "0")
            .Flag("json", "Print one JSON object: count, min, max, mean, p50, p90, p95, p99, p100, over_cutoff.")
            .Handle(a =>
            {
                var (inputs, lazyRecords) = Inputs(a);
                var records = lazyRecords.Value;
                // Measure untruncated renders: the cutoff only classifies.
                var samples = LengthStatistics.MeasureUntruncated(inputs, records);
                var lengths = LengthStatistics.Lengths(samples);
                // The same cutoff preprocess uses, given or default: --help's default is the one applied.
                int? cutoff = inputs.Options.CutoffLen;
                var st = LengthStatistics.Compute(lengths, cutoff);
                if (a.Bool("json"))
                {
                    a.Out.WriteLine(new JsonObject
                    {
                        ["count"] = st.Count, ["min"] = st.Min, ["max"] = st.Max, ["mean"] = Math.Round(st.Mean, 3),
                        ["p50"] = st.P50, ["p90"] = st.P90, ["p95"] = st.P95, ["p99"] = st.P99, ["p100"] = st.P100, ["over_cutoff"] = st.OverCutoff,
                    }.ToJsonString());
                    return CliApp.Success;
                }
                a.Out.WriteLine($"samples {st.Count:N0} (of {records.Count:N0} records)");
                a.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"min {st.Min}  mean {st.Mean:F1}  p50 {st.P50}  p90 {st.P90}  p95 {st.P95}  p99 {st.P99}  max {st.P100}"));
                if (cutoff is int c) a.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"over cutoff_len {c}: {st.OverCutoff:N0} ({100.0 * st.OverCutoff / st.Count:F2}%)"));
                a.Out.WriteLine();
                a.Out.Write(LengthStatistics.Histogram(lengths));
                int show = Math.Min(a.Int("show-examples", 0), records.Count);
                for (int i = 0; i < show; i++)
                {
                    var s = samples[i];
                    int sup = s.Labels.Count(l => l != LabelMasker.IgnoreIndex);
                    a.Out.WriteLine($"\n--- example {i} ({records[i].Source}): {s.Ids.Length - sup} masked, {sup} supervised; supervised text in [[ ]]");
                    a.Out.WriteLine(Highlight(s.Ids, s.Labels, inputs.Tokenizer));
                }
                return CliApp.Success;
            });

    private static CliCommand InspectMasking() =>
        new CliCommand("inspect-masking", "Show what each sample supervises; flag any that is not exactly the answer plus its end-of-turn token.")
        {
            Description = "Exit code 1 when any sample is flagged. Samples are processed with the same options (cutoff_len, truncation) as training.",
        }
            .WithCommonOptions()
            .Option("limit", "Inspect only the first N records (0 = all).", "N", "0")
            .Flag("quiet", "Print only flagged samples and the totals.")
            .Handle(a =>
            {
                var (inputs, lazyRecords) = Inputs(a);
                var records = lazyRecords.Value;
                int limit = a.Int("limit", 0);
                if (limit > 0 && records.Count > limit) records = records.Take(limit).ToList();
                var p = new SftPreprocessor(inputs.Renderer, inputs.Tokenizer, inputs.Options);
                var results = new MaskingInspection?[records.Count];
                var events = new List<PreprocessEvent>[records.Count];
                Parallel.For(0, records.Count, i =>
                {
                    var s = p.ProcessOne(records[i]);
                    events[i] = [.. s.Events];
                    results[i] = s.Ids.Length == 0 ? null : MaskingInspector.Inspect(records[i], s.Ids, s.Labels, inputs.Tokenizer, inputs.Options);
                });
                int flagged = 0, dropped = 0, truncated = 0, fromStart = 0;
                for (int i = 0; i < records.Count; i++)
                {
                    var r = results[i];
                    if (r is null) { dropped++; a.Out.WriteLine($"[{i}] {records[i].Source}: dropped ({events[i].LastOrDefault()?.Detail})"); continue; }
                    if (r.Problem is not null) flagged++;
                    var cut = events[i].FirstOrDefault(e => e.Action == "truncated");
                    if (cut is not null)
                    {
                        truncated++;
                        // Left truncation removes the start of the sample: the system prompt and the oldest turns.
                        if (cut.Detail.Contains("from the start", StringComparison.Ordinal)) fromStart++;
                    }
                    if (a.Bool("quiet") && r.Problem is null) continue;
                    a.Out.WriteLine($"[{i}] {r.Source}: {r.Masked} masked, {r.Supervised} supervised: {Escape(r.SupervisedText)}" +
                        (cut is null ? "" : $"  (truncated {cut.OriginalLength} -> {cut.FinalLength} tokens: {Escape(cut.Detail)})") +
                        (r.Problem is null ? "" : "  <-- FLAGGED: " + r.Problem));
                }
                // As preprocess reports: truncated samples train on less than their render (the start is gone).
                a.Out.WriteLine($"{records.Count} sample(s): {flagged} flagged, {dropped} dropped, {truncated} truncated to cutoff_len {inputs.Options.CutoffLen}" +
                    (fromStart > 0 ? $" ({fromStart} cut from the start, losing their system prompt and oldest turns)" : ""));
                return flagged > 0 ? CliApp.UserError : CliApp.Success;
            });

    private static (PreprocessInputs Inputs, Lazy<IReadOnlyList<SftRecord>> Records) Inputs(ParsedArgs a)
    {
        string dataPath;
        DatasetDescription? description = null;
        if (a.Has("dataset-info"))
        {
            if (a.Has("data")) throw new UserException("give --data FILE or --dataset-info FILE --dataset NAME, not both");
            (description, dataPath) = DatasetDescription.Load(a.RequiredString("dataset-info"), a.String("dataset") ?? throw new UserException("--dataset-info needs --dataset NAME"));
        }
        else dataPath = a.String("data") ?? throw new UserException("missing --data FILE (or --dataset-info FILE --dataset NAME)");
        var inputs = PreprocessInputs.FromFolder(a.RequiredString("tokenizer"), dataPath, description, Options(a));
        var records = new Lazy<IReadOnlyList<SftRecord>>(() => SftDatasetReader.Read(dataPath, description));
        return (inputs, records);
    }

    /// <summary>The preprocessing flags through the library's binder: <c>--cutoff-len</c> is the key <c>cutoff_len</c>.</summary>
    internal static PreprocessOptions Options(ParsedArgs a) =>
        PreprocessSettingsBinder.Bind(
            key => key == "template_kwargs" ? TemplateKwargs(a)
                : a.Command.Options.Any(o => o.Name == Flag(key)) && a.Has(Flag(key)) ? a.String(Flag(key)) : null,
            key => key == "template_kwargs" ? "--template-kwarg" : "--" + Flag(key));

    private static string Flag(string key) => key.Replace('_', '-');

    // Repeated --template-kwarg KEY=VALUE as one JSON object: VALUE is JSON, else a bare word (a string).
    internal static string? TemplateKwargs(ParsedArgs a)
    {
        var pairs = a.List("template-kwarg");
        if (pairs.Count == 0) return null;
        var obj = new JsonObject();
        foreach (var kv in pairs)
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0) throw new UserException($"--template-kwarg: expected KEY=VALUE, got '{kv}'");
            var value = kv[(eq + 1)..];
            JsonNode? node;
            try { node = JsonNode.Parse(value); }
            catch (JsonException) { node = JsonValue.Create(value); }
            obj[kv[..eq]] = node;
        }
        return obj.ToJsonString();
    }

    private static string Highlight(int[] ids, int[] labels, ITextTokenizer tokenizer)
    {
        var sb = new StringBuilder();
        int t = 0;
        while (t < ids.Length)
        {
            bool sup = labels[t] != LabelMasker.IgnoreIndex;
            int s = t;
            while (t < ids.Length && (labels[t] != LabelMasker.IgnoreIndex) == sup) t++;
            var text = tokenizer.Decode(ids.AsSpan(s, t - s), skipSpecialTokens: false);
            sb.Append(sup ? "[[" + text + "]]" : text);
        }
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\n", "\\n");
}
