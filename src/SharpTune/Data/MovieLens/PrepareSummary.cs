using System.Text.Encodings.Web;
using System.Text.Json;

namespace SharpTune.Data.MovieLens;

/// <summary>One input file in the summary.</summary>
/// <param name="Role">"ratings" or "movies".</param>
/// <param name="Path">The path as given.</param>
/// <param name="Sha256">SHA-256 of the file, lowercase hex.</param>
/// <param name="RowsRead">Data rows seen.</param>
/// <param name="RowsRejected">Rows skipped as bad (only with --skip-bad-rows).</param>
/// <param name="RejectedByReason">Skipped rows by reason.</param>
/// <param name="Encoding">How the text was decoded: "utf-8", or "latin-1" (ml-100k's u.item as GroupLens ships it).</param>
public sealed record InputSummary(string Role, string Path, string Sha256, long RowsRead, long RowsRejected, IReadOnlyList<KeyValuePair<string, long>> RejectedByReason, string Encoding = "utf-8");

/// <summary>Counts of one output split.</summary>
/// <param name="Name">train, val, test or eval.</param>
/// <param name="File">The file holding it, or null (val is only sampled into eval.json).</param>
/// <param name="Samples">Number of records.</param>
/// <param name="Yes">Records labelled Yes.</param>
/// <param name="No">Records labelled No.</param>
public sealed record SplitSummary(string Name, string? File, long Samples, long Yes, long No);

/// <summary>What <c>prepare movielens</c> read, kept, skipped and wrote; saved as summary.json and printed as a table.</summary>
public sealed class PrepareSummary
{
    /// <summary>The input layout used.</summary>
    public required MovieLensFormat Format { get; init; }

    /// <summary>The ratings and movies files.</summary>
    public required IReadOnlyList<InputSummary> Inputs { get; init; }

    /// <summary>The first few rejected rows, "file:line: problem".</summary>
    public required IReadOnlyList<string> RejectedExamples { get; init; }

    /// <summary>Distinct users with at least one accepted rating.</summary>
    public required int Users { get; init; }

    /// <summary>Users with more than history-len ratings (they give samples).</summary>
    public required int UsersKept { get; init; }

    /// <summary>Users with history-len ratings or fewer (no sample).</summary>
    public int UsersSkipped => Users - UsersKept;

    /// <summary>Accepted ratings.</summary>
    public required long RatingsAccepted { get; init; }

    /// <summary>Samples before splitting: over kept users, ratings minus history-len.</summary>
    public required long Samples { get; init; }

    /// <summary>train, val, test and eval.</summary>
    public required IReadOnlyList<SplitSummary> Splits { get; init; }

    /// <summary>The options used.</summary>
    public required MovieLensPrepareOptions Options { get; init; }

    /// <summary>The summary as indented JSON (UTF-8, no BOM, trailing newline). Same inputs and options, same bytes.</summary>
    public byte[] ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var o = Options;
            w.WriteStartObject();
            w.WriteString("format", Format.Name());
            w.WriteStartObject("inputs");
            foreach (var i in Inputs)
            {
                w.WriteStartObject(i.Role);
                w.WriteString("path", i.Path);
                w.WriteString("sha256", i.Sha256);
                w.WriteString("encoding", i.Encoding);
                w.WriteNumber("rows_read", i.RowsRead);
                w.WriteNumber("rows_rejected", i.RowsRejected);
                w.WriteStartObject("rejected_by_reason");
                foreach (var (k, v) in i.RejectedByReason) w.WriteNumber(k, v);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartArray("rejected_examples");
            foreach (var e in RejectedExamples) w.WriteStringValue(e);
            w.WriteEndArray();
            w.WriteNumber("ratings_accepted", RatingsAccepted);
            w.WriteStartObject("users");
            w.WriteNumber("total", Users);
            w.WriteNumber("kept", UsersKept);
            w.WriteNumber("skipped", UsersSkipped);
            w.WriteEndObject();
            w.WriteNumber("samples_before_split", Samples);
            w.WriteStartObject("splits");
            foreach (var s in Splits)
            {
                w.WriteStartObject(s.Name);
                if (s.File is null) w.WriteNull("file"); else w.WriteString("file", s.File);
                w.WriteNumber("samples", s.Samples);
                w.WriteNumber("yes", s.Yes);
                w.WriteNumber("no", s.No);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("options");
            w.WriteString("format", Format.Name());
            w.WriteNumber("history_len", o.HistoryLength);
            w.WriteNumber("rating_threshold", o.RatingThreshold);
            w.WriteString("split", o.Split == SplitMode.User ? "user" : "temporal");
            w.WriteNumber("val_ratio", o.ValRatio);
            w.WriteNumber("test_ratio", o.TestRatio);
            w.WriteNumber("eval_size", o.EvalSize);
            w.WriteNumber("seed", o.Seed);
            w.WriteString("instruction", o.Instruction);
            w.WriteString("system", o.System);
            w.WriteBoolean("skip_bad_rows", o.SkipBadRows);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }
}
