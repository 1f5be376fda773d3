using SharpTune.Data.Sft;
using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>
/// Turns records into supervised token sequences: render once through the <see cref="PromptBuilder"/>, tokenize once
/// without added special tokens, label the answers by their character spans, check render parity, and apply the
/// cutoff_len policy without ever cutting the final answer. Records are processed in parallel; output order and
/// content are deterministic.
/// </summary>
public sealed class SftPreprocessor
{
    private readonly PromptBuilder _builder;
    private readonly ITextTokenizer _tokenizer;
    private readonly IChatRenderer _renderer;
    private readonly PreprocessOptions _options;

    /// <summary>Creates a preprocessor.</summary>
    public SftPreprocessor(IChatRenderer renderer, ITextTokenizer tokenizer, PreprocessOptions options)
    {
        if (options.CutoffLen < 2) throw new UserException($"cutoff_len must be at least 2, got {options.CutoffLen}");
        _renderer = renderer;
        _tokenizer = tokenizer;
        _options = options;
        _builder = new PromptBuilder(renderer, options.Prompt);
    }

    /// <summary>The prompt builder, shared with inference.</summary>
    public PromptBuilder Builder => _builder;

    /// <summary>One processed sample, or why there is none.</summary>
    public sealed record Sample(int[] Ids, int[] Labels, IReadOnlyList<PreprocessEvent> Events, int FinalAnswerStart);

    /// <summary>Records processed together by <see cref="ProcessInto"/> (in parallel within a chunk).</summary>
    internal const int DefaultChunkRecords = 1024;

    /// <summary>Processes all records into an in-memory dataset (the reference for <see cref="ProcessInto"/>).</summary>
    public (TokenizedDataset Dataset, PreprocessReport Report) Process(IReadOnlyList<SftRecord> records, int degreeOfParallelism = 0)
    {
        var results = new Sample?[records.Count];
        ProcessRange(records, 0, records.Count, results, degreeOfParallelism);
        var report = new PreprocessReport { Records = records.Count };
        var builder = new TokenizedDataset.Builder();
        for (int i = 0; i < records.Count; i++)
            if (Account(report, results[i]!)) builder.Add(results[i]!.Ids, results[i]!.Labels, i);
        return (builder.Build(), report);
    }

    /// <summary>
    /// Processes the records <paramref name="chunkRecords"/> at a time (in parallel within a chunk) and appends each
    /// chunk's kept samples, in record order, to <paramref name="writer"/>: only one chunk's samples are held at once.
    /// The samples and the report equal <see cref="Process"/>'s.
    /// </summary>
    public PreprocessReport ProcessInto(IReadOnlyList<SftRecord> records, TokenizedDatasetWriter writer, int chunkRecords = DefaultChunkRecords, int degreeOfParallelism = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRecords, 1);
        var report = new PreprocessReport { Records = records.Count };
        var results = new Sample?[Math.Min(chunkRecords, records.Count)];
        for (int start = 0; start < records.Count; start += chunkRecords)
        {
            int n = Math.Min(chunkRecords, records.Count - start);
            ProcessRange(records, start, n, results, degreeOfParallelism);
            for (int j = 0; j < n; j++)
            {
                var s = results[j]!;
                results[j] = null;
                if (Account(report, s)) writer.Add(s.Ids, s.Labels, start + j);
            }
        }
        return report;
    }

    // Processes records[start .. start + count) into results[0 .. count) in parallel; rethrows the first failure by index.
    private void ProcessRange(IReadOnlyList<SftRecord> records, int start, int count, Sample?[] results, int degreeOfParallelism)
    {
        var failures = new Exception?[count];
        var po = new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism > 0 ? degreeOfParallelism : Environment.ProcessorCount };
        Parallel.For(0, count, po, (i, state) =>
        {
            try { results[i] = ProcessOne(records[start + i]); }
            catch (Exception e) { failures[i] = e; state.Stop(); }
        });
        var firstFailure = failures.FirstOrDefault(f => f is not null);
        if (firstFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(firstFailure).Throw();
    }

    // Adds the sample's events and counts to the report; true when the sample is kept.
    private static bool Account(PreprocessReport report, Sample s)
    {
        foreach (var ev in s.Events)
        {
            report.Events.Add(ev);
            switch (ev.Action)
            {
                case "dropped": report.Dropped++; break;
                case "truncated": report.Truncated++; break;
                case "render-mismatch": report.RenderMismatches++; break;
            }
        }
        if (s.Ids.Length == 0) return false;
        report.Kept++;
        foreach (var l in s.Labels) { if (l == LabelMasker.IgnoreIndex) report.MaskedTokens++; else report.SupervisedTokens++; }
        return true;
    }

    /// <summary>Processes one record (no truncation events are merged; see <see cref="Process"/>).</summary>
    public Sample ProcessOne(SftRecord record)
    {
        var (ids, labels, finalStart, render) = Tokenize(record);
        var events = new List<PreprocessEvent>(1);
        if (CheckParity(record, render, ids, finalStart) is { } mismatch)
        {
            if (!_options.AllowRenderMismatch) throw new UserException(mismatch.Detail);
            events.Add(mismatch);
        }
        if (finalStart < 0 || labels.All(l => l == LabelMasker.IgnoreIndex))
            return Dropped(record, ids.Length, "no supervised tokens (empty answer)", events);
        if (ids.Length <= _options.CutoffLen) return new Sample(ids, labels, events, finalStart);

        int original = ids.Length;
        switch (_options.Truncation)
        {
            case TruncationMode.Error:
                throw new UserException($"{record.Source}: sample is {original} tokens, over cutoff_len {_options.CutoffLen} (truncation: error)");
            case TruncationMode.Drop:
                return Dropped(record, original, $"{original} tokens > cutoff_len {_options.CutoffLen} (truncation: drop)", events);
            case TruncationMode.History:
                var removed = new List<string>();
                var current = record;
                while (ids.Length > _options.CutoffLen && HistoryTrimmer.DropOldest(current) is { } step)
                {
                    current = step.Record;
                    removed.Add(step.Removed);
                    (ids, labels, finalStart, _) = Tokenize(current);
                }
                if (ids.Length <= _options.CutoffLen)
                {
                    events.Add(new PreprocessEvent(record.Index, record.Source, "truncated", original, ids.Length,
                        $"removed {removed.Count} history item(s): {string.Join("; ", removed)}"));
                    return new Sample(ids, labels, events, finalStart);
                }
                return LeftTruncate(record, ids, labels, finalStart, original, removed.Count > 0 ? $"removed {removed.Count} history item(s), then " : "", events);
            default:
                return LeftTruncate(record, ids, labels, finalStart, original, "", events);
        }
    }

    private Sample LeftTruncate(SftRecord record, int[] ids, int[] labels, int finalStart, int original, string before, List<PreprocessEvent> events)
    {
        int keepBos = _tokenizer.BosId is int bos && ids.Length > 0 && ids[0] == bos ? 1 : 0;
        int budget = _options.CutoffLen - keepBos;
        int answerLength = ids.Length - finalStart;
        if (answerLength > budget)
            return Dropped(record, original, $"the answer alone is {answerLength} tokens, over cutoff_len {_options.CutoffLen}", events);
        int cut = ids.Length - _options.CutoffLen; // tokens removed after the kept BOS
        var newIds = new int[_options.CutoffLen];
        var newLabels = new int[_options.CutoffLen];
        if (keepBos == 1) { newIds[0] = ids[0]; newLabels[0] = labels[0]; }
        Array.Copy(ids, keepBos + cut, newIds, keepBos, budget);
        Array.Copy(labels, keepBos + cut, newLabels, keepBos, budget);
        var removedText = _tokenizer.Decode(ids.AsSpan(keepBos, cut), skipSpecialTokens: false);
        events.Add(new PreprocessEvent(record.Index, record.Source, "truncated", original, newIds.Length,
            $"{before}dropped {cut} tokens from the start{(keepBos == 1 ? " (after BOS)" : "")}: {Preview(removedText)}"));
        return new Sample(newIds, newLabels, events, finalStart - cut);
    }

    private static Sample Dropped(SftRecord record, int length, string why, List<PreprocessEvent> events)
    {
        events.Add(new PreprocessEvent(record.Index, record.Source, "dropped", length, 0, why));
        return new Sample([], [], events, -1);
    }

    private (int[] Ids, int[] Labels, int FinalStart, TrainingRender Render) Tokenize(SftRecord record)
    {
        var render = _builder.RenderTraining(record, finalAnswerOnly: _options.MaskHistory && !_options.TrainOnPrompt);
        var (ids, offsets) = _tokenizer.EncodeWithOffsets(render.Text);
        bool appendEos = _options.Prompt.CompletionEos && _tokenizer.EosId is int
            && (record.Kind != SftRecordKind.Conversation || _renderer.IsCompletion);
        var labels = new int[ids.Length + (appendEos ? 1 : 0)];
        if (_options.TrainOnPrompt)
            ids.AsSpan().CopyTo(labels);
        else
            LabelMasker.Mask(ids, offsets, render.Text, render.Answers, _tokenizer.SpecialIds, _options.Prompt.TrainOnEot, labels.AsSpan(0, ids.Length));
        if (appendEos)
        {
            ids = [.. ids, _tokenizer.EosId!.Value];
            labels[^1] = ids[^1];
        }
        // The final answer starts at the first token overlapping its span.
        var final = render.Answers[^1];
        int finalStart = -1;
        for (int t = 0; t < offsets.Length; t++)
            if (offsets[t].End > final.Start || (final.Length == 0 && offsets[t].Start >= final.Start)) { finalStart = t; break; }
        if (finalStart < 0 && appendEos) finalStart = ids.Length - 1;
        return (ids, labels, finalStart, render);
    }

    // The inference prompt, tokenized on its own, must equal the training tokens before the final answer.
    private PreprocessEvent? CheckParity(SftRecord record, TrainingRender render, int[] ids, int finalStart)
    {
        if (render.Prompt is null || finalStart < 0) return null;
        var promptIds = _tokenizer.EncodeWithOffsets(render.Prompt).Ids;
        int n = Math.Min(promptIds.Length, finalStart);
        int diff = promptIds.AsSpan(0, n).CommonPrefixLength(ids.AsSpan(0, n));
        if (diff == n && promptIds.Length == finalStart) return null;
        string Side(ReadOnlySpan<int> s) => diff < s.Length ? Preview(_tokenizer.Decode(s.Slice(diff, Math.Min(8, s.Length - diff)), skipSpecialTokens: false)) : "(end)";
        var detail = $"{record.Source}: render mismatch — the inference prompt tokenizes differently from the training sample before its answer, at token {diff}: " +
            $"training has {Side(ids.AsSpan(0, finalStart))}, inference prompt has {Side(promptIds)}" +
            (render.PromptIsPrefix ? "" : " (the generation-prompt render is not a prefix of the training render)") +
            $" — {_options.AllowRenderMismatchHint} to count these instead of failing";
        return new PreprocessEvent(record.Index, record.Source, "render-mismatch", ids.Length, ids.Length, detail);
    }

    private static string Preview(string s)
    {
        var escaped = s.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
        return "\"" + (escaped.Length > 80 ? escaped[..80] + "…" : escaped) + "\"";
    }
}
