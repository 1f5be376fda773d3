namespace SharpTune.Training;

/// <summary>
/// A right-padded batch as transformers takes it for causal-LM training — <c>input_ids</c>, <c>labels</c> (aligned
/// with input_ids: the logits at position t are scored against <c>labels[t+1]</c>; -100 = not supervised) and
/// <c>attention_mask</c> — laid out as the engine runs it: a flat list of the unpadded tokens, each with its position
/// and the key rows it may attend to, and the list of tokens whose next label is supervised.
/// </summary>
public sealed class TrainingBatch
{
    /// <summary>The label value that marks a position as not supervised (PyTorch's <c>ignore_index</c>).</summary>
    public const int IgnoreIndex = -100;

    private TrainingBatch() { }

    /// <summary>Number of sequences.</summary>
    public int Sequences { get; private init; }

    /// <summary>Padded length of every sequence.</summary>
    public int PaddedLength { get; private init; }

    /// <summary>Unpadded tokens, sequence after sequence.</summary>
    public int Tokens => Ids.Length;

    /// <summary>Token ids of the flat list.</summary>
    public int[] Ids { get; private init; } = [];

    /// <summary>Position of each token within its sequence.</summary>
    public int[] Positions { get; private init; } = [];

    /// <summary>First key row each token may see: its sequence's first token in the flat list.</summary>
    public int[] KvStart { get; private init; } = [];

    /// <summary>Number of key rows each token sees (causal: position + 1).</summary>
    public int[] KvCount { get; private init; } = [];

    /// <summary>Flat indices of the tokens whose next label is supervised, ascending.</summary>
    public int[] SupervisedTokens { get; private init; } = [];

    /// <summary>The label each of <see cref="SupervisedTokens"/> is scored against.</summary>
    public int[] Targets { get; private init; } = [];

    /// <summary>Number of supervised tokens (the denominator of the mean loss).</summary>
    public int SupervisedCount => Targets.Length;

    /// <summary>
    /// A seeded random batch without padding, as the PyTorch peer benchmark builds one: <paramref name="rows"/> rows of
    /// <paramref name="length"/> uniform token ids whose labels equal the ids on the last <paramref name="supervised"/>
    /// positions and are -100 elsewhere (so <paramref name="supervised"/> tokens per row are scored).
    /// </summary>
    public static TrainingBatch Random(int rows, int length, int supervised, int vocabSize, ulong seed)
    {
        if (rows < 1 || length < 2) throw new UserException($"random batch: expected at least 1 row of 2 tokens, got {rows} × {length}");
        if (supervised < 1 || supervised >= length) throw new UserException($"random batch: expected 1 to {length - 1} supervised tokens per row, got {supervised}");
        var rng = new Numerics.SplitMix64(seed ^ 0x5851F42D4C957F2DUL);
        var ids = new int[rows][];
        var labels = new int[rows][];
        for (int r = 0; r < rows; r++)
        {
            ids[r] = new int[length];
            labels[r] = Enumerable.Repeat(IgnoreIndex, length).ToArray();
            for (int t = 0; t < length; t++) ids[r][t] = rng.Next(vocabSize);
            for (int t = length - supervised; t < length; t++) labels[r][t] = ids[r][t];
        }
        return FromPadded(ids, labels, null, vocabSize, "random batch");
    }

    /// <summary>
    /// Lays out a padded batch. <paramref name="attentionMask"/> must be right padding (ones, then zeros) and may be
    /// null (no padding); every id and supervised label must be inside <paramref name="vocabSize"/>. Problems are
    /// <see cref="UserException"/>s naming <paramref name="source"/>, the row and the position.
    /// </summary>
    public static TrainingBatch FromPadded(IReadOnlyList<int[]> inputIds, IReadOnlyList<int[]> labels, IReadOnlyList<int[]>? attentionMask, int vocabSize, string source = "batch")
    {
        if (inputIds.Count == 0) throw new UserException($"{source}: the batch has no sequences");
        if (labels.Count != inputIds.Count || (attentionMask is not null && attentionMask.Count != inputIds.Count))
            throw new UserException($"{source}: input_ids has {inputIds.Count} rows but labels has {labels.Count}{(attentionMask is null ? "" : $" and attention_mask {attentionMask.Count}")}");
        int width = inputIds[0].Length;
        var ids = new List<int>();
        var positions = new List<int>();
        var starts = new List<int>();
        var supervised = new List<int>();
        var targets = new List<int>();
        for (int s = 0; s < inputIds.Count; s++)
        {
            var row = inputIds[s];
            if (row.Length != width || labels[s].Length != width || (attentionMask is not null && attentionMask[s].Length != width))
                throw new UserException($"{source}: row {s}: input_ids, labels and attention_mask must all have the padded length {width}");
            int length = width;
            if (attentionMask is not null)
            {
                var mask = attentionMask[s];
                length = 0;
                while (length < width && mask[length] == 1) length++;
                for (int t = length; t < width; t++)
                    if (mask[t] != 0)
                        throw new UserException($"{source}: row {s}: attention_mask must be right padding (ones then zeros); position {t} is {mask[t]} after a 0");
            }
            int first = ids.Count;
            for (int t = 0; t < width; t++)
            {
                int label = labels[s][t];
                if (label != IgnoreIndex && (label < 0 || label >= vocabSize))
                    throw new UserException($"{source}: row {s}, position {t}: label {label} is outside the vocabulary (0..{vocabSize - 1}) and is not {IgnoreIndex}");
                if (t >= length)
                {
                    // HF would score logits of a padded position; SharpTune never computes padded tokens.
                    if (label != IgnoreIndex && t - 1 >= length)
                        throw new UserException($"{source}: row {s}, position {t}: label {label} follows a padded position; labels after the padding must be {IgnoreIndex}");
                    continue;
                }
                if ((uint)row[t] >= (uint)vocabSize)
                    throw new UserException($"{source}: row {s}, position {t}: token id {row[t]} is outside the vocabulary (0..{vocabSize - 1})");
                ids.Add(row[t]);
                positions.Add(t);
                starts.Add(first);
                if (t + 1 < width && labels[s][t + 1] != IgnoreIndex)
                {
                    supervised.Add(ids.Count - 1);
                    targets.Add(labels[s][t + 1]);
                }
            }
        }
        return new TrainingBatch
        {
            Sequences = inputIds.Count,
            PaddedLength = width,
            Ids = ids.ToArray(),
            Positions = positions.ToArray(),
            KvStart = starts.ToArray(),
            KvCount = positions.Select(p => p + 1).ToArray(),
            SupervisedTokens = supervised.ToArray(),
            Targets = targets.ToArray(),
        };
    }
}
