using System.Diagnostics;
using AccelSim.Mapping;
using AccelSim.Mapping.MapSpaces;
using AccelSim.Model;

namespace AccelSim.Mapper;

/// <summary>One deterministic piece of a search (a slice of the space, a batch of samples, one annealing chain).</summary>
public interface ISearchUnit
{
    void Run(SearchWorker worker);
}

/// <summary>
/// How a strategy splits its search into units. Two budget modes keep results independent of thread count and timing:
/// * shared (<see cref="SharedBudget"/>): the units form one sequence of evaluations and the budget keeps its first N,
///   whichever thread ran them (exhaustive, random);
/// * per unit: each unit has its own budget (independent annealing chains).
/// </summary>
public sealed record SearchPlan(long UnitCount, Func<long, ISearchUnit> CreateUnit, bool SharedBudget, long Budget, Func<long, long>? UnitBudget = null, double? ExpectedEvaluations = null);

public enum StopReason { Completed, Budget, Timeout, Cancelled }

/// <summary>Live figures for a progress display (not deterministic: they depend on timing).</summary>
public readonly record struct SearchProgress(long Evaluations, double? Expected, double BestPrimary, TimeSpan Elapsed);

/// <summary>The outcome of a search. Everything except <see cref="Elapsed"/>, <see cref="Rejected"/> and <see cref="Threads"/> is
/// a function of the inputs and the seed, unless <see cref="StopReason"/> is <see cref="StopReason.Timeout"/>.</summary>
public sealed record SearchOutcome(CompactMapping? Best, Score BestScore, long Evaluations, long Rejected, StopReason StopReason, TimeSpan Elapsed, int Threads);

/// <summary>Runs a <see cref="SearchPlan"/> on several threads and merges the units' results deterministically.</summary>
public sealed class SearchEngine
{
    private readonly MapSpace _space;
    private readonly ModelContext _model;
    private readonly Objective _objective;
    private volatile bool _stopAll;
    private long _stopAfterUnit = long.MaxValue;
    private long _liveEvaluations;
    private double _liveBest = double.PositiveInfinity;
    private readonly object _lock = new();

    public SearchEngine(MapSpace space, ModelContext model, Objective objective)
    {
        _space = space;
        _model = model;
        _objective = objective;
    }

    internal bool Stopping(long unit) => _stopAll || unit > Volatile.Read(ref _stopAfterUnit);

    internal void AddProgress(long n) => Interlocked.Add(ref _liveEvaluations, n);

    internal void OfferBest(in Score s)
    {
        var p = s.Primary;
        if (p < Volatile.Read(ref _liveBest))
            lock (_lock)
                if (p < _liveBest) _liveBest = p;
    }

    public SearchOutcome Run(SearchPlan plan, int threads, TimeSpan? timeout = null, Action<SearchProgress>? progress = null,
        CancellationToken cancel = default)
    {
        threads = Math.Max(1, threads);
        var sw = Stopwatch.StartNew();
        var results = new UnitResult?[plan.UnitCount <= int.MaxValue ? plan.UnitCount : throw new ArgumentException("too many units")];
        long next = -1;
        long prefixUnit = 0, prefixEvaluations = 0;
        bool timedOut = false;
        Exception? failure = null;

        void Worker()
        {
            var w = new SearchWorker(this, _space, _model, _objective);
            try
            {
                while (!_stopAll)
                {
                    long i = Interlocked.Increment(ref next);
                    if (i >= plan.UnitCount || i > Volatile.Read(ref _stopAfterUnit)) break;
                    long limit = plan.SharedBudget ? plan.Budget : (plan.UnitBudget?.Invoke(i) ?? plan.Budget);
                    w.BeginUnit(i, limit);
                    plan.CreateUnit(i).Run(w);
                    var r = w.EndUnit(!_stopAll && !Stopping(i));
                    results[i] = r;
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

        var pool = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            pool[t] = new Thread(Worker) { IsBackground = true, Name = "mapper-" + t };
            pool[t].Start();
        }
        var deadline = timeout is { } to ? sw.Elapsed + to : TimeSpan.MaxValue;
        while (true)
        {
            bool alive = false;
            foreach (var th in pool)
                if (th.IsAlive) { alive = true; break; }
            if (!alive) break;
            pool[0].Join(100);
            if (sw.Elapsed >= deadline && !_stopAll) { timedOut = true; _stopAll = true; }
            if (cancel.IsCancellationRequested && !_stopAll) _stopAll = true;
            progress?.Invoke(new SearchProgress(Interlocked.Read(ref _liveEvaluations), plan.ExpectedEvaluations, Volatile.Read(ref _liveBest), sw.Elapsed));
        }
        foreach (var th in pool) th.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        progress?.Invoke(new SearchProgress(Interlocked.Read(ref _liveEvaluations), plan.ExpectedEvaluations, Volatile.Read(ref _liveBest), sw.Elapsed));

        var reason = timedOut ? StopReason.Timeout : cancel.IsCancellationRequested ? StopReason.Cancelled : StopReason.Completed;
        return Merge(plan, results, reason, sw.Elapsed, threads);
    }

    private SearchOutcome Merge(SearchPlan plan, UnitResult?[] results, StopReason reason, TimeSpan elapsed, int threads)
    {
        CompactMapping? best = null;
        var bestScore = Score.Worst;
        long evaluations = 0, rejected = 0;
        void Offer(Improvement? imp)
        {
            if (imp is null) return;
            int c = Score.Compare(imp.Score, bestScore);
            if (c < 0 || (c == 0 && best is not null && MappingOrder.Compare(_space, imp.Mapping, best) < 0))
            {
                best = imp.Mapping;
                bestScore = imp.Score;
            }
        }
        bool exact = reason == StopReason.Completed;
        if (plan.SharedBudget && exact)
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
            if (remaining <= 0 && results.Length > 0) reason = StopReason.Budget;
            else if (results.Any(r => r is null)) reason = StopReason.Budget;
        }
        else
        {
            foreach (var r in results)
            {
                if (r is null) continue;
                Offer(r.History.LastOrDefault());
                evaluations += r.Evaluations;
                rejected += r.Rejected;
            }
            if (exact && plan.UnitBudget is { } ub)
            {
                for (long i = 0; i < results.Length; i++)
                    if (results[i] is { } r && r.Evaluations >= ub(i)) { reason = StopReason.Budget; break; }
            }
        }
        return new SearchOutcome(best, bestScore, evaluations, rejected, reason, elapsed, threads);
    }
}
