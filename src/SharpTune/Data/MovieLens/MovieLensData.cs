namespace SharpTune.Data.MovieLens;

/// <summary>
/// A MovieLens dataset as <c>prepare movielens</c> sees it before writing: the catalog, the input reports (with
/// their sha256), every user's timeline and the split plan. Sample j of user u predicts timeline position
/// <c>Offsets[u] + historyLength + j</c> from the <c>historyLength</c> ratings before it.
/// </summary>
internal sealed record MovieLensData(
    MovieLensFormat Format,
    MovieCatalog Catalog,
    InputFileReport MoviesReport,
    InputFileReport RatingsReport,
    UserTimelines Timelines,
    SplitPlan Plan);
