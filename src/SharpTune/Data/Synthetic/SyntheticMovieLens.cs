using System.Buffers.Text;
using System.Text;
using SharpTune.IO;
using SharpTune.Numerics;

namespace SharpTune.Data.Synthetic;

/// <summary>What the generator wrote.</summary>
/// <param name="RatingsPath">ratings.csv.</param>
/// <param name="MoviesPath">movies.csv.</param>
/// <param name="Ratings">Number of ratings.</param>
/// <param name="Movies">Number of movies.</param>
/// <param name="Users">Number of users.</param>
public sealed record SyntheticMovieLensResult(string RatingsPath, string MoviesPath, long Ratings, int Movies, int Users);

/// <summary>
/// Generates a MovieLens-like data set in the ml-latest layout (ratings.csv, movies.csv; LF line ends) with the
/// structure that makes the Yes/No task learnable: a latent rating = global mean + user bias + movie quality +
/// the user's taste for the movie's genres + noise, rounded to half or whole stars (per user, as on MovieLens)
/// and calibrated to about 48% at 4.0 or above. Users pick movies by a skewed popularity (a few blockbusters,
/// a long tail), leaning towards genres they like; each user rates in sessions along a timeline between
/// 2000 and 2018. Titles look like MovieLens titles: "Name, The (1994)", some with commas, quotes or accents.
/// </summary>
public static class SyntheticMovieLens
{
    internal static readonly string[] Genres =
        ["Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
         "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"];

    // Share of MovieLens movies carrying each genre (roughly, from ml-latest-small).
    private static readonly double[] GenreShare =
        [0.19, 0.13, 0.06, 0.07, 0.39, 0.13, 0.04, 0.45, 0.08, 0.01, 0.10, 0.03, 0.06, 0.16, 0.10, 0.20, 0.04, 0.02];

    private static readonly string[] Adjectives =
        ["Silent", "Last", "Broken", "Golden", "Hidden", "Dark", "Lost", "Crimson", "Wild", "Frozen", "Secret", "Little",
         "Great", "Final", "Lonely", "Electric", "Midnight", "Savage", "Sweet", "Bitter", "Eternal", "Quiet", "Red",
         "Blue", "Forgotten", "Distant", "Perfect", "Strange", "Royal", "Burning", "Fragile", "Endless"];

    private static readonly string[] Nouns =
        ["River", "Kingdom", "Summer", "Road", "Heart", "City", "Garden", "Storm", "Island", "Promise", "Shadow", "Harbor",
         "Mountain", "Letter", "Dream", "Game", "Journey", "Night", "Station", "Machine", "Empire", "Witness", "Hotel",
         "Horizon", "Affair", "Detective", "Planet", "Symphony", "Frontier", "Legacy", "Mirror", "Circus", "Café", "Crossing"];

    private static readonly string[] Names =
        ["Amélie", "Jack", "Rosa", "Max", "Emma", "Hans", "Lucía", "Omar", "Yuki", "Nora", "Frank", "Zoë", "Igor", "Billy"];

    private const long Start2000 = 946684800, Start2018 = 1514764800;
    private const double GlobalMean = 3.42;

    /// <summary>Writes ratings.csv and movies.csv (atomically) and returns what was written.</summary>
    public static SyntheticMovieLensResult Generate(SyntheticMovieLensOptions options)
    {
        options.Validate();
        if (File.Exists(options.OutputDirectory))
            throw new UserException($"--out: {options.OutputDirectory} is a file; expected a directory");
        var rng = new SplitMix64(options.Seed);
        var movies = MakeMovies(options.Movies, rng);
        var moviesPath = Path.Combine(options.OutputDirectory, "movies.csv");
        var ratingsPath = Path.Combine(options.OutputDirectory, "ratings.csv");
        AtomicFile.Write(moviesPath, s => WriteMovies(s, movies));
        long ratings = 0;
        AtomicFile.Write(ratingsPath, s => ratings = WriteRatings(s, movies, options, rng));
        return new SyntheticMovieLensResult(ratingsPath, moviesPath, ratings, movies.Length, options.Users);
    }

    private sealed record Movie(int Id, string Title, int[] Genres, double Quality);

    private static Movie[] MakeMovies(int count, SplitMix64 rng)
    {
        var titles = new HashSet<string>(StringComparer.Ordinal);
        var movies = new Movie[count];
        double shareSum = GenreShare.Sum();
        int id = 0;
        for (int i = 0; i < count; i++)
        {
            id += 1 + (rng.NextDouble() < 0.1 ? rng.Next(5) : 0); // ids with gaps, like MovieLens
            var genres = new List<int> { PickGenre(rng, shareSum) };
            while (genres.Count < 4 && rng.NextDouble() < 0.45)
            {
                int g = PickGenre(rng, shareSum);
                if (!genres.Contains(g)) genres.Add(g);
            }
            genres.Sort();
            int year = Math.Max(1920, 2018 - (int)Math.Abs(rng.NextGaussian() * 20));
            // Redraw clashing titles; after many tries, number a sequel (before a moved article: "Road II, The").
            var title = $"{MakeName(rng)} ({year})";
            for (int tries = 0; titles.Contains(title); tries++)
                title = tries < 30 ? $"{MakeName(rng)} ({year})" : $"{Sequel(MakeName(rng), 2 + (tries - 30) / 10)} ({year})";
            titles.Add(title);
            movies[i] = new Movie(id, title, [.. genres], rng.NextGaussian() * 0.45);
        }
        return movies;
    }

    private static int PickGenre(SplitMix64 rng, double shareSum)
    {
        double x = rng.NextDouble() * shareSum;
        for (int g = 0; g < GenreShare.Length; g++)
            if ((x -= GenreShare[g]) < 0) return g;
        return GenreShare.Length - 1;
    }

    private static string MakeName(SplitMix64 rng)
    {
        string A() => Adjectives[rng.Next(Adjectives.Length)];
        string N() => Nouns[rng.Next(Nouns.Length)];
        string P() => Names[rng.Next(Names.Length)];
        return rng.Next(8) switch
        {
            0 => $"{A()} {N()}, The",               // MovieLens moves leading articles to the end
            1 => $"{N()} of the {A()} {N()}",
            2 => $"{P()}'s {N()}",
            3 => $"{A()} {N()}",
            4 => $"{N()}, {N()} and {P()}",           // commas inside the title: quoted in the CSV
            5 => $"\"{A()}\" {N()}",                  // quotes inside the title: doubled in the CSV
            6 => $"{A()} {N()}: The {N()}",
            _ => $"{N()}, A",
        };
    }

    private static string Sequel(string name, int k)
    {
        int comma = name.LastIndexOf(", ", StringComparison.Ordinal);
        return comma >= 0 && name[(comma + 2)..] is "The" or "A" ? $"{name[..comma]} {Roman(k)}{name[comma..]}" : $"{name} {Roman(k)}";
    }

    private static string Roman(int k) => k switch { 2 => "II", 3 => "III", 4 => "IV", 5 => "V", _ => k.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static void WriteMovies(Stream s, Movie[] movies)
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        w.Write("movieId,title,genres\n");
        foreach (var m in movies)
        {
            w.Write(m.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.Write(',');
            w.Write(m.Title.Contains(',') || m.Title.Contains('"') ? "\"" + m.Title.Replace("\"", "\"\"") + "\"" : m.Title);
            w.Write(',');
            w.Write(string.Join('|', m.Genres.Select(g => Genres[g])));
            w.Write('\n');
        }
    }

    private static long WriteRatings(Stream s, Movie[] movies, SyntheticMovieLensOptions o, SplitMix64 rng)
    {
        int count = movies.Length, genres = Genres.Length;
        // Popularity: a random rank per movie, Zipf-like weight, lifted by quality.
        var ranks = Enumerable.Range(0, count).ToArray();
        rng.Shuffle(ranks.AsSpan());
        var cdf = new double[count];
        double acc = 0;
        for (int i = 0; i < count; i++)
        {
            acc += Math.Pow(ranks[i] + 5, -0.9) * Math.Exp(0.8 * movies[i].Quality);
            cdf[i] = acc;
        }
        var seenBy = new int[count];
        var taste = new double[genres];
        var picks = new List<(int Movie, long Time, byte Tenths)>();
        var line = new byte[64];
        long total = 0;
        var sink = new Data.MovieLens.ByteSink(s);
        sink.Write("userId,movieId,rating,timestamp\n"u8);
        for (int user = 1; user <= o.Users; user++)
        {
            double bias = rng.NextGaussian() * 0.8;
            for (int g = 0; g < genres; g++) taste[g] = rng.NextGaussian() * 0.5;
            bool halfStars = rng.NextDouble() < 0.6;
            int extra = (int)Math.Floor(Math.Exp(Math.Log(40) + 1.1 * rng.NextGaussian()));
            int n = Math.Min(count / 2, o.RatingsPerUserMin + extra);
            long time = Start2000 + (long)(rng.NextDouble() * (Start2018 - Start2000 - 86400L * 365));
            picks.Clear();
            while (picks.Count < n)
            {
                int m = Array.BinarySearch(cdf, rng.NextDouble() * acc);
                if (m < 0) m = ~m;
                if (m >= count) m = count - 1;
                if (seenBy[m] == user) continue;
                double like = 0;
                foreach (var g in movies[m].Genres) like += taste[g];
                like /= movies[m].Genres.Length;
                // Users lean towards genres they like (accept with probability 0.35 .. 1).
                if (rng.NextDouble() > 0.35 + 0.65 / (1 + Math.Exp(-3 * like))) continue;
                seenBy[m] = user;
                // Rating sessions: several ratings within minutes, then a gap of days or weeks.
                time += rng.NextDouble() < 0.7 ? (long)(rng.NextDouble() * 180) : (long)(-Math.Log(1 - rng.NextDouble()) * 86400 * 12);
                double latent = GlobalMean + bias + movies[m].Quality + like + rng.NextGaussian() * 0.65;
                picks.Add((m, time, ToTenths(latent, halfStars)));
            }
            // ml-latest lists each user's ratings by movieId, not by time.
            picks.Sort((a, b) => a.Movie.CompareTo(b.Movie));
            foreach (var (m, t, tenths) in picks)
            {
                int len = 0;
                Utf8Formatter.TryFormat(user, line.AsSpan(len), out int w); len += w;
                line[len++] = (byte)',';
                Utf8Formatter.TryFormat(movies[m].Id, line.AsSpan(len), out w); len += w;
                line[len++] = (byte)',';
                line[len++] = (byte)('0' + tenths / 10);
                line[len++] = (byte)'.';
                line[len++] = (byte)('0' + tenths % 10);
                line[len++] = (byte)',';
                Utf8Formatter.TryFormat(t, line.AsSpan(len), out w); len += w;
                line[len++] = (byte)'\n';
                sink.Write(line.AsSpan(0, len));
            }
            total += picks.Count;
        }
        sink.Flush();
        return total;
    }

    private static byte ToTenths(double latent, bool halfStars)
    {
        double r = halfStars ? Math.Round(latent * 2, MidpointRounding.AwayFromZero) / 2 : Math.Round(latent, MidpointRounding.AwayFromZero);
        r = Math.Clamp(r, halfStars ? 0.5 : 1.0, 5.0);
        return (byte)Math.Round(r * 10);
    }
}
