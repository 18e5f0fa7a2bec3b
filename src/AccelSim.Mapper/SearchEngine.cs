using System.Diagnostics;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;

namespace AccelSim.Mapper;

/// <summary>One deterministic piece of a search (a slice of the space, a batch of samples, one local search).</summary>
public interface ISearchUnit
{
    void Run(SearchWorker worker);
}

/// <summary>
/// How a strategy splits (one phase of) its search into units. Two budget modes keep results independent of thread
/// count and timing:
/// * shared (<see cref="SharedBudget"/>): the units form one sequence of evaluations and the budget keeps its first N,
///   whichever thread ran them (exhaustive, random);
/// * per unit: each unit has its own budget (<see cref="UnitBudget"/>), and all of each unit counts.
/// <see cref="PoolSize"/> &gt; 0 asks every unit to keep its best distinct mappings (per-unit budgets only).
/// </summary>
public sealed record SearchPlan(long UnitCount, Func<long, ISearchUnit> CreateUnit, bool SharedBudget, long Budget,
    Func<long, long>? UnitBudget = null, int PoolSize = 0);

public enum StopReason { Completed, Budget, Timeout, Cancelled }

/// <summary>Live figures for a progress display (not deterministic: they depend on timing).</summary>
public readonly record struct SearchProgress(long Evaluations, double? Expected, double BestPrimary, TimeSpan Elapsed);

/// <summary>A mapping kept in a unit's pool of best candidates.</summary>
public sealed record PoolEntry(Score Score, UInt128 Key, CompactMapping Mapping);

/// <summary>
/// The outcome of a search (or one phase). Everything except <see cref="Rejected"/> is a function of the inputs and
/// the seed, unless <see cref="StopReason"/> is <see cref="StopReason.Timeout"/> or <see cref="StopReason.Cancelled"/>.
/// </summary>
public sealed record SearchOutcome(CompactMapping? Best, Score BestScore, long Evaluations, long Rejected, StopReason StopReason, IReadOnlyList<PoolEntry> Pool)
{
    public static SearchOutcome Empty { get; } = new(null, Score.Worst, 0, 0, StopReason.Completed, Array.Empty<PoolEntry>());

    /// <summary>Two phases run one after the other.</summary>
    public SearchOutcome Then(SearchOutcome next, MapSpace space)
    {
        var best = Best;
        var score = BestScore;
        if (next.Best is not null)
        {
            int c = Score.Compare(next.BestScore, score);
            if (best is null || c < 0 || (c == 0 && MappingOrder.Compare(space, next.Best, best) < 0))
            {
                best = next.Best;
                score = next.BestScore;
            }
        }
        var reason = next.StopReason is StopReason.Timeout or StopReason.Cancelled || StopReason is StopReason.Timeout or StopReason.Cancelled
            ? (StopReason == StopReason.Cancelled || next.StopReason == StopReason.Cancelled ? StopReason.Cancelled : StopReason.Timeout)
            : next.StopReason == StopReason.Budget || StopReason == StopReason.Budget ? StopReason.Budget : StopReason.Completed;
        return new SearchOutcome(best, score, Evaluations + next.Evaluations, Rejected + next.Rejected, reason, next.Pool);
    }
}

/// <summary>Runs <see cref="SearchPlan"/>s on several threads and merges the units' results deterministically.</summary>
public sealed class SearchEngine
{
    private readonly object _lock = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _deadline;
    private readonly Action<SearchProgress>? _progress;
    private readonly CancellationToken _cancel;
    private volatile bool _stopAll;
    private volatile bool _timedOut;
    private long _stopAfterUnit = long.MaxValue;
    private long _liveEvaluations;
    private double _liveBest = double.PositiveInfinity;

    public SearchEngine(MapSpace space, ModelContext model, Objective objective, int threads, TimeSpan? timeout = null,
        Action<SearchProgress>? progress = null, CancellationToken cancel = default)
    {
        Space = space;
        Model = model;
        Objective = objective;
        Threads = Math.Max(1, threads);
        _deadline = timeout ?? TimeSpan.MaxValue;
        _progress = progress;
        _cancel = cancel;
    }

    public MapSpace Space { get; }
    public ModelContext Model { get; }
    public Objective Objective { get; }
    public int Threads { get; }
    public TimeSpan Elapsed => _clock.Elapsed;
    /// <summary>Total evaluations the strategy expects (for the progress display).</summary>
    public double? ExpectedEvaluations { get; set; }
    public bool Stopped => _stopAll;

    internal bool Stopping(long unit) => _stopAll || unit > Volatile.Read(ref _stopAfterUnit);

    internal void AddProgress(long n) => Interlocked.Add(ref _liveEvaluations, n);

    internal void OfferBest(in Score s)
    {
        var p = s.Primary;
        if (p < Volatile.Read(ref _liveBest))
            lock (_lock)
                if (p < _liveBest) _liveBest = p;
    }

    private void Report() =>
        _progress?.Invoke(new SearchProgress(Interlocked.Read(ref _liveEvaluations), ExpectedEvaluations, Volatile.Read(ref _liveBest), _clock.Elapsed));

    public SearchOutcome Run(SearchPlan plan)
    {
        if (plan.UnitCount > int.MaxValue) throw new ArgumentException("too many units", nameof(plan));
        if (_stopAll) return SearchOutcome.Empty with { StopReason = _timedOut ? StopReason.Timeout : StopReason.Cancelled };
        Volatile.Write(ref _stopAfterUnit, long.MaxValue);
        var results = new UnitResult?[plan.UnitCount];
        long next = -1;
        long prefixUnit = 0, prefixEvaluations = 0;
        Exception? failure = null;

        void Work()
        {
            var w = new SearchWorker(this, Space, Model, Objective);
            try
            {
                while (!_stopAll)
                {
                    long i = Interlocked.Increment(ref next);
                    if (i >= plan.UnitCount || i > Volatile.Read(ref _stopAfterUnit)) break;
                    long limit = plan.SharedBudget ? plan.Budget : (plan.UnitBudget?.Invoke(i) ?? plan.Budget);
                    w.BeginUnit(i, limit, plan.PoolSize);
                    plan.CreateUnit(i).Run(w);
                    results[i] = w.EndUnit();
                    if (!plan.SharedBudget) continue;
                    lock (_lock)
                    {
                        // Advance the completed prefix; once it holds the whole budget, later units cannot count.
                        while (prefixUnit < results.Length && results[prefixUnit] is { } done)
                        {
                            prefixEvaluations += done.Evaluations;
                            prefixUnit++;
                            if (prefixEvaluations >= plan.Budget)
                            {
                                Volatile.Write(ref _stopAfterUnit, prefixUnit - 1);
                                break;
                            }
                        }
                    }
                }
                w.Flush();
            }
            catch (Exception e)
            {
                lock (_lock) failure ??= e;
                _stopAll = true;
            }
        }

        int threads = (int)Math.Min(Threads, Math.Max(1, plan.UnitCount));
        var pool = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            pool[t] = new Thread(Work) { IsBackground = true, Name = "mapper-" + t };
            pool[t].Start();
        }
        foreach (var th in pool)
            while (!th.Join(100))
            {
                if (_clock.Elapsed >= _deadline && !_stopAll) { _timedOut = true; _stopAll = true; }
                if (_cancel.IsCancellationRequested) _stopAll = true;
                Report();
            }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        Report();
        var reason = _timedOut ? StopReason.Timeout : _stopAll ? StopReason.Cancelled : StopReason.Completed;
        return Merge(plan, results, reason);
    }

    private SearchOutcome Merge(SearchPlan plan, UnitResult?[] results, StopReason reason)
    {
        CompactMapping? best = null;
        var bestScore = Score.Worst;
        long evaluations = 0, rejected = 0;
        void Offer(Improvement? imp)
        {
            if (imp is null) return;
            int c = Score.Compare(imp.Score, bestScore);
            if (c < 0 || (c == 0 && best is not null && MappingOrder.Compare(Space, imp.Mapping, best) < 0))
            {
                best = imp.Mapping;
                bestScore = imp.Score;
            }
        }
        var pool = new List<PoolEntry>();
        if (plan.SharedBudget && reason == StopReason.Completed)
        {
            // The first `Budget` evaluations of the unit sequence, whichever threads produced them.
            long remaining = plan.Budget;
            foreach (var r in results)
            {
                if (r is null || remaining <= 0) break;
                long take = Math.Min(r.Evaluations, remaining);
                Offer(r.History.LastOrDefault(h => h.EvaluationIndex <= take));
                evaluations += take;
                rejected += r.Rejected;
                remaining -= take;
            }
            if (remaining <= 0) reason = StopReason.Budget;
        }
        else
        {
            foreach (var r in results)
            {
                if (r is null) continue;
                Offer(r.History.LastOrDefault());
                evaluations += r.Evaluations;
                rejected += r.Rejected;
                pool.AddRange(r.Pool);
                if (reason == StopReason.Completed && !plan.SharedBudget && r.Evaluations >= (plan.UnitBudget?.Invoke(r.Index) ?? plan.Budget))
                    reason = StopReason.Budget;
            }
        }
        // Global pool: best first, one entry per equivalence key, ties broken by the mapping order.
        pool.Sort((a, b) =>
        {
            int c = Score.Compare(a.Score, b.Score);
            return c != 0 ? c : MappingOrder.Compare(Space, a.Mapping, b.Mapping);
        });
        var distinct = new List<PoolEntry>();
        var keys = new HashSet<UInt128>();
        foreach (var e in pool)
            if (keys.Add(e.Key)) distinct.Add(e);
        return new SearchOutcome(best, bestScore, evaluations, rejected, reason, distinct);
    }
}
